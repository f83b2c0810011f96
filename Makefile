# The two commands of the README: `make run` and `make test`. The rest are operator tools.
.PHONY: run test setup train faq-check eval-faq eval-nlu eval-core eval-emotion bench lock

run: setup
	.venv/bin/python scripts/run.py

test:
	scripts/test.sh

setup:
	scripts/setup.sh

train: setup
	.venv/bin/python scripts/train.py

faq-check: setup
	.venv/bin/python -m faq.check

eval-faq: setup
	.venv/bin/python -m faq.evaluate

eval-nlu: train
	.venv/bin/python scripts/eval_nlu.py

eval-core: train
	.venv/bin/python scripts/eval_core.py

eval-emotion: setup
	PYTHONPATH=. .venv-bot/bin/python scripts/eval_emotion.py

bench: setup
	.venv/bin/python scripts/bench.py

# Re-pins both environments from what is installed (after changing requirements/*.in).
lock:
	.venv/bin/python -m pip freeze --all --exclude-editable | grep -vE '^(-e|pip==)' > requirements/service.txt
	.venv-bot/bin/python -m pip freeze --all --exclude-editable | grep -vE '^(-e|pip==)' > requirements/bot.txt
