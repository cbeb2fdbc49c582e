# Operator targets for dev_min (seed 12.5). DEV_MIN_MODE=emulated (default here) uses the local
# substrate's emulated managed endpoints; DEV_MIN_MODE=aws drives Terraform against AWS and Confluent.
DEV_MIN_MODE ?= emulated
EVENTS ?= 20000
FP := .venv/bin/fp

.PHONY: setup dev-min-up dev-min-run dev-min-down dev-min-status dev-min-cost

setup:
	bash scripts/setup.sh

dev-min-up: setup
	$(FP) dev-min up --mode $(DEV_MIN_MODE)

dev-min-run:
	$(FP) dev-min run --events $(EVENTS)

dev-min-down:
	$(FP) dev-min down --mode $(DEV_MIN_MODE)

dev-min-status:
	$(FP) dev-min status

dev-min-cost:
	$(FP) dev-min cost --hours 3 --demos 2
