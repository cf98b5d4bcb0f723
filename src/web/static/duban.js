// duban console: enhancements only; every form works without this script.
// Upload forms show their progress while large files go up.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!form.classList.contains("upload") || !window.XMLHttpRequest || !window.FormData) return;
  var bar = form.querySelector(".upload-progress");
  if (!bar) return;
  event.preventDefault();
  var xhr = new XMLHttpRequest();
  xhr.open("POST", form.action);
  bar.hidden = false;
  xhr.upload.addEventListener("progress", function (e) {
    if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
  });
  xhr.addEventListener("load", function () {
    // The server answers with a redirect (followed) or a page explaining a problem.
    if (xhr.responseURL && xhr.status < 400) { window.location.assign(xhr.responseURL); return; }
    document.open(); document.write(xhr.responseText); document.close();
  });
  xhr.addEventListener("error", function () { form.submit(); });
  xhr.send(new FormData(form));
});
