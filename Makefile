# faqbot — see README.md.
GO      ?= go
BIN     := bin
# gse embeds 38 MB of dictionaries unless built with "ne"; the engine ships
# its own compressed word list instead (search/dict).
TAGS    := ne
GOFLAGS := -tags=$(TAGS) -trimpath
LDFLAGS := -s -w
DEVSET  := search/testdata/eval/dev.jsonl
# Written independently of the guides and of the development set, and never
# used for tuning: it shows how the engine does on questions it was not
# shaped by.
HOLDOUT := search/testdata/eval/holdout.jsonl
# Two more sets written from the guides' topics and everyday phrasing, not
# from the other sets: FRESH was written before the last round of tuning and
# then checked against while tuning (its misses were read); UNSEEN was
# written in the middle of it and only ever read as a summary, like HOLDOUT.
FRESH   := search/testdata/eval/fresh.jsonl
UNSEEN  := search/testdata/eval/unseen.jsonl
# Two more written from users' situations around the entries people confuse
# (uninstalling vs deleting the account, a computer in front of the user vs
# one left behind): PARAPHRASE before the round of tuning that followed,
# SITUATIONS in the middle of it; both were then read question by question
# while tuning, like FRESH, and the calibration is fitted on them.
PARAPHRASE := search/testdata/eval/paraphrase.jsonl
SITUATIONS := search/testdata/eval/situations.jsonl
# Two sets of 300 written from scratch, independently of the other
# sets: one in Hong Kong, Taiwan and English phrasing, one in mainland
# phrasing; both were read question by question while tuning the lexicon.
WRITTEN_HK := search/testdata/eval/written-hk-tw-en.jsonl
WRITTEN_CN := search/testdata/eval/written-mainland.jsonl
# Written before two rounds of tuning and kept out of the repository
# until they were over: no question of it was read then, only its summary.
# Its misses were read in the round after, so it overstates a little now.
# Languages are labelled with askcli's own detection.
BLIND := search/testdata/eval/blind.jsonl
# Written independently of all the above during the round that read BLIND's
# misses, and kept out of the repository until that round was over: only
# its summary was looked at, before and after. The honest estimate, with
# HOLDOUT, UNSEEN and BLIND3. Labelled by hand, languages included.
BLIND2 := search/testdata/eval/blind2.jsonl
# Written later still, around the entries users confuse, independently of
# all the above, and kept out of the repository until the end: only its
# summary was looked at, to decide whether a change was kept.
BLIND3 := search/testdata/eval/blind3.jsonl
# Floors: make test fails below them (regression guards, a little under the
# measured figures in the README).
EVAL_FLOORS       := -min-answered 0.95 -min-top1 0.96 -min-top3 0.98 -min-declined 0.97 -max-wrong 0.025 -min-lang 0.94
HOLDOUT_FLOORS    := -min-answered 0.92 -min-top1 0.93 -min-top3 0.97 -min-declined 0.95 -max-wrong 0.04 -min-lang 0.92
FRESH_FLOORS      := -min-answered 0.98 -min-top1 0.98 -min-top3 0.99 -min-declined 0.97 -max-wrong 0.015 -min-lang 0.97
UNSEEN_FLOORS     := -min-answered 0.90 -min-top1 0.92 -min-top3 0.96 -min-declined 0.96 -max-wrong 0.03 -min-lang 0.89
PARAPHRASE_FLOORS := -min-answered 0.94 -min-top1 0.95 -min-top3 0.97 -min-declined 0.97 -max-wrong 0.025 -min-lang 0.91
SITUATIONS_FLOORS := -min-answered 0.93 -min-top1 0.97 -min-top3 0.98 -min-declined 0.97 -max-wrong 0.02 -min-lang 0.94
WRITTEN_FLOORS    := -min-answered 0.94 -min-top1 0.95 -min-top3 0.98 -min-declined 0.98 -max-wrong 0.025 -min-lang 0.93
BLIND_FLOORS      := -min-answered 0.93 -min-top1 0.94 -min-top3 0.99 -min-declined 0.98 -max-wrong 0.03 -min-lang 0.93
BLIND2_FLOORS     := -min-answered 0.89 -min-top1 0.90 -min-top3 0.95 -min-declined 0.94 -max-wrong 0.05 -min-lang 0.89
BLIND3_FLOORS     := -min-answered 0.89 -min-top1 0.90 -min-top3 0.95 -min-declined 0.96 -max-wrong 0.05 -min-lang 0.90
# The guides' own alternate questions, each left out of its entry (and one
# that reads the same, usually its translation): all in scope.
GUIDES_FLOORS     := -min-answered 0.95 -min-top1 0.97 -min-top3 0.99 -max-wrong 0.025 -min-lang 0.93

.PHONY: all build ask run run-bot test vet fmt-check unit eval bench fuzz load clean

all: build

build:
	$(GO) build $(GOFLAGS) -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

# make run-bot: faqbot with the tokens in the environment (see README).
run-bot: build
	$(BIN)/faqbot

# make ask Q="网页版怎么退出"
Q ?= 网页版怎么退出
ask: build
	$(BIN)/askcli "$(Q)"

run: build
	$(BIN)/askcli

test: vet fmt-check eval unit

vet:
	$(GO) vet -tags=$(TAGS) ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -tags=$(TAGS) -race -count=1 ./...

eval: build
	$(BIN)/askcli eval -baseline $(EVAL_FLOORS) $(DEVSET)
	$(BIN)/askcli eval -baseline -misses=false $(HOLDOUT_FLOORS) $(HOLDOUT)
	$(BIN)/askcli eval $(FRESH_FLOORS) $(FRESH)
	$(BIN)/askcli eval -misses=false $(UNSEEN_FLOORS) $(UNSEEN)
	$(BIN)/askcli eval $(PARAPHRASE_FLOORS) $(PARAPHRASE)
	$(BIN)/askcli eval $(SITUATIONS_FLOORS) $(SITUATIONS)
	$(BIN)/askcli eval $(WRITTEN_FLOORS) $(WRITTEN_HK)
	$(BIN)/askcli eval $(WRITTEN_FLOORS) $(WRITTEN_CN)
	$(BIN)/askcli eval $(BLIND_FLOORS) $(BLIND)
	$(BIN)/askcli eval -baseline -misses=false $(BLIND2_FLOORS) $(BLIND2)
	$(BIN)/askcli eval -baseline -misses=false $(BLIND3_FLOORS) $(BLIND3)
	$(BIN)/askcli eval -guides-left-out -misses=false $(GUIDES_FLOORS)

# Go benchmarks, then the report: lean against gse's full dictionary, and
# synthetic guides of growing size. bin/askcli-gse is askcli built the
# naive way (gse's embedded dictionaries), only to weigh it.
bench: build
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/askcli-gse ./cmd/askcli
	$(GO) test -tags=$(TAGS) -run '^$$' -bench . -benchmem -count 5 ./search/
	$(GO) run -tags=$(TAGS) ./search/internal/benchreport -askcli $(BIN)/askcli -naive $(BIN)/askcli-gse -faqbot $(BIN)/faqbot -devset $(DEVSET)

# Each fuzz target for FUZZTIME (make test runs their seed corpora:
# the f.Add seeds and testdata/fuzz/<target>/ beside each package). A
# failing input is written to testdata/fuzz/<target>/: commit it with the
# fix, and it stays a regression test.
FUZZTIME ?= 30s
FUZZ := -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
FUZZ_TARGETS := \
	FuzzParse:./knowledge/ FuzzLexicon:./knowledge/ \
	FuzzNormalize:./search/ FuzzAnswer:./search/ \
	FuzzRender:./bot/telegram/ FuzzRouteMessage:./bot/telegram/ FuzzHandleUpdate:./bot/telegram/ \
	FuzzRender:./bot/discord/ FuzzSplitText:./bot/discord/ FuzzMessageCreate:./bot/discord/ FuzzInteractionCreate:./bot/discord/ \
	FuzzConfigFile:./cmd/faqbot/
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t%%:*} ($${t#*:}, $(FUZZTIME))"; \
		$(GO) test -tags=$(TAGS) $(FUZZ) -fuzz "^$${t%%:*}\$$" "$${t#*:}"; \
	done

# make load: 200 users asking 2,000 questions over 20 s against the fake
# Bot API, without the race detector: first through the Telegram adapter
# and the real engine, then through faqbot as a whole (question log,
# metrics, ops listener); prints latency, memory and goroutine figures.
# One package at a time (-p 1), so that the two runs do not share the
# cores.
load:
	@out=$$($(GO) test -tags=$(TAGS) -count=1 -p 1 -run '^TestLoad$$' -v ./bot/telegram/ ./cmd/faqbot/ 2>&1); rc=$$?; \
	printf '%s\n' "$$out" | grep -E '^(=== RUN|--- |\s+load_test)|^(ok|FAIL)'; exit $$rc

clean:
	rm -rf $(BIN)
