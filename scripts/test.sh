#!/usr/bin/env bash
# Runs every test: lint, data validation, unit and API tests (SQLite and PostgreSQL),
# bot-side tests, Rasa story tests, the evaluations, and the end-to-end and browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

scripts/setup.sh
scripts/system_deps.sh

export PYTHONPATH="$ROOT" TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1
mkdir -p var/results test-artifacts

# shellcheck source=/dev/null
source scripts/postgres.sh
start_test_postgres
trap stop_test_postgres EXIT

step() { echo; echo "=== $* ==="; }

step "lint (ruff)"
.venv/bin/ruff check .

step "knowledge base check"
.venv/bin/python -m faq.check

step "train the Rasa model (cached by fingerprint)"
.venv/bin/python scripts/train.py

step "rasa data validate"
.venv-bot/bin/rasa data validate --fail-on-warnings --domain var/build/domain --data bot/data --config config.yml

step "bot-side tests (Python 3.10)"
.venv-bot/bin/python -m pytest tests/bot --noconftest -p no:cacheprovider -q

step "rasa test: dialogue stories"
.venv/bin/python scripts/eval_core.py --min-conversations 0.95

step "NLU evaluation on held-out examples"
.venv/bin/python scripts/eval_nlu.py --min-accuracy 0.85

step "FAQ evaluation on held-out questions"
.venv/bin/python -m faq.evaluate

step "FAQ answers through the router on held-out questions (a live stack)"
.venv/bin/python scripts/eval_faq_router.py --min-accuracy 0.97

step "emotion and urgency evaluation"
.venv-bot/bin/python scripts/eval_emotion.py

step "service tests, integration and browser tests (Python 3.11)"
.venv/bin/python -m pytest tests --ignore=tests/bot -q
