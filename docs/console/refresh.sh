#!/usr/bin/env bash
# Takes the console screenshots docs/console.md (and docs/bulletins.md, docs/orders.md) shows, from the
# browser tests (needs Debian's chromium, chromium-driver and fonts-noto-cjk), and writes
# docs/bulletin-sample.html from the worked example.
set -euo pipefail
cd "$(dirname "$0")/../.."
DUBAN_SCREENSHOTS=docs/console DUBAN_TEST_REQUIRE_BROWSER=1 \
  cargo test --test api -- --exact sqlite::browser::a_clerk_and_the_office_close_a_task_in_the_browser
DUBAN_SCREENSHOTS=docs/console DUBAN_TEST_REQUIRE_BROWSER=1 \
  cargo test --test api -- --exact sqlite::browser::a_leader_instructs_the_clerk_replies_and_the_leader_sees_it
for t in the_office_imports_a_table_and_bulk_assigns_it_in_the_browser \
  the_office_publishes_a_bulletin_and_confirms_its_proposal_in_the_browser; do
  DUBAN_SCREENSHOTS=docs/console DUBAN_TEST_REQUIRE_BROWSER=1 \
    cargo test --test api -- --exact "sqlite::browser_office::$t"
done
DUBAN_SCREENSHOTS=docs/console DUBAN_TEST_REQUIRE_BROWSER=1 \
  cargo test --test api -- --exact sqlite::browser::a_published_bulletin_prints_on_a4
DUBAN_SCREENSHOTS=docs/console DUBAN_TEST_REQUIRE_BROWSER=1 \
  cargo test --test api -- --exact sqlite::browser::a_supervision_order_prints_on_a4
DUBAN_SAMPLES=docs \
  cargo test --test api -- --exact sqlite::bulletins::published_bulletins_reach_every_unit_by_email_with_the_files_attached
