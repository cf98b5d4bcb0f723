#!/usr/bin/env bash
# Contract test: schemathesis fuzzes every operation of the OpenAPI document
# that duban serves, and fails on any answer the document does not promise
# (a 5xx, an undocumented status or content type, a body off its schema).
#
# It starts the already built `duban` (target/debug, or DUBAN_BIN) on a fresh
# SQLite database in a temporary folder, with a known admin password, on a
# free loopback port; sets up a unit, a unit clerk and a little data through
# the API; then runs schemathesis once as the unit clerk and once as the
# admin. schemathesis comes from PyPI, pinned, into a virtualenv under
# target/ (ignored by git; DUBAN_ST_VENV to put it elsewhere); nothing else
# is fetched. Runs on its own: `bash .ci/schemathesis.sh`.
#
# Budget: SCHEMATHESIS_MAX_TIME seconds and SCHEMATHESIS_MAX_EXAMPLES cases
# per operation for each of the two runs (defaults keep the step within a
# few minutes on 2 cores). A fixed seed makes a run repeatable; set
# SCHEMATHESIS_SEED to explore other cases.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

st_version=4.32.5
venv=${DUBAN_ST_VENV:-$root/target/schemathesis-venv}
max_time=${SCHEMATHESIS_MAX_TIME:-90}
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-25}
seed=${SCHEMATHESIS_SEED:-20261130}

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -qF "$st_version"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$st_version"
fi

bin=${DUBAN_BIN:-$root/target/debug/duban}
if [ ! -x "$bin" ]; then
  cargo build --bin duban
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
admin_password='Schemathesis-admin-1'
clerk_password='Schemathesis-clerk-1'

# Started from the temporary folder, so no duban.toml of the checkout is
# read, and with no DATABASE_URL, so the database is a new SQLite file there.
(
  cd "$work"
  exec env -u DATABASE_URL \
    DUBAN_DATA_DIR="$work/data" \
    DUBAN_LISTEN="127.0.0.1:$port" \
    DUBAN_ADMIN_PASSWORD="$admin_password" \
    DUBAN_MAIL_TRANSPORT=file \
    "$bin" serve
) >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/server.log" >&2
    echo "duban did not start" >&2
    exit 1
  fi
  sleep 0.2
done

# api METHOD PATH [TOKEN] [JSON]: the answer's body; fails on a non-2xx.
api() {
  local method=$1 path=$2 token=${3:-} body=${4:-}
  local args=(-fsS -X "$method" "$base/api/v1$path")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
  curl "${args[@]}"
}
field() { python3 -c "import json, sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
login() {
  api POST /auth/login '' "{\"username\": \"$1\", \"password\": \"$2\"}" | field access_token
}

admin=$(login admin "$admin_password")
unit=$(api POST /units "$admin" '{"code": "st-town", "name": "契约镇", "kind": "township"}' | field id)
api POST /users "$admin" "{\"username\": \"st-clerk\", \"display_name\": \"契约镇联络员\",
  \"role\": \"unit\", \"unit_id\": $unit, \"password\": \"$clerk_password\"}" >/dev/null
clerk=$(login st-clerk "$clerk_password")
# A little data, so that operations on ids find something now and then.
plan=$(api POST /plans "$admin" '{"title": "契约测试方案", "year": 2026}' | field id)
task=$(api POST /tasks "$admin" "{\"plan_id\": $plan, \"title\": \"Contract Task\",
  \"code\": \"1.1\", \"lead_unit_id\": $unit, \"due_date\": \"2030-06-30\"}" | field id)
api POST "/tasks/$task/assign" "$admin" '{"version": 1}' >/dev/null
api POST /calendar/feeds "$clerk" '{"name": "phone"}' >/dev/null

run() {
  local who=$1 token=$2
  echo "== schemathesis as $who"
  # From the temporary folder: schemathesis keeps a cache of failures in
  # the working directory (.schemathesis/), which does not belong in the checkout.
  (cd "$work" && "$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$max_examples" \
    --max-time "$max_time" \
    --seed "$seed" \
    --workers 2 \
    --generation-database none \
    --no-color)
}

status=0
# The clerk first: the admin's run may change or deactivate the clerk.
run "the unit clerk" "$clerk" || status=1
run "the admin" "$admin" || status=1
if [ "$status" -ne 0 ]; then
  echo "schemathesis found answers the API description does not promise; server log: " >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
