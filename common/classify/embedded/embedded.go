// Package embedded is the offline classifier: no network, no model files. It
// learns a tenant's categories once from the example utterances of its
// taxonomy and answers utterances and 상담원:/고객: transcripts in
// microseconds, with an extractive Korean summary for transcripts.
//
// Korean needs no tokenizer here: character 1–2-grams over the text with its
// spacing normalised, plus whole words, match a stem whatever ending or
// particle follows it ("환불받고", "환불 받으려고요", "환불은") and survive STT's
// unreliable spacing. Bigrams of coarse syllables (no final consonant, plain
// initials, ㅐ = ㅔ) add a weaker match that survives STT's and hurried
// typing's slips ("안왓어요", "영수쯩", "결재"). Before that, numbers are
// folded to one feature, spoken ones included ("구공공일공일"), and words the
// caller rules out are dropped ("환불 말고요 영수증만").
//
// The model is multinomial naive Bayes. Each feature's evidence is weighted
// by its IDF times the square root of how concentrated it is on few
// categories, so that a word that tells the confusable categories apart
// (영수증, 주소, 아이디) outweighs the ones they share (주문, 바꾸다,
// 로그인). Measured on the nexus taxonomy against TF-IDF centroids, nearest
// examples and softmax regression, naive Bayes was as accurate on single
// utterances and clearly better on whole calls, where the evidence of
// several turns adds up; word bigrams and character 3-grams were measured and
// did not help.
//
// Evidence is measured against a background of the categories mixed with
// everyday speech (generic.go), so that words every caller says are evidence
// for nothing, and a caller who says nothing the examples know gets the
// taxonomy's fallback.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/routebot/routebot/common/classify"
	"github.com/routebot/routebot/common/transcript"
)

// Backend is the Result.Backend of this classifier.
const Backend = "embedded"

const (
	// maxTextBytes is how much of an utterance or a turn is read: far more
	// than anyone says in one breath, and a bound on the work per request.
	maxTextBytes = 8 << 10
	// maxTurns is how many turns of a transcript are read; the need is stated
	// early and later customer turns weigh next to nothing.
	maxTurns = 64
)

// config holds the tunables, chosen by measurement (see eval_test.go).
type config struct {
	minN, maxN   int     // character n-gram lengths, in runes
	words        bool    // whole words are features too
	rewrite      bool    // numbers folded, dismissed words dropped (rewrite)
	coarse       float64 // weight of coarse bigrams (see coarse); 0 leaves them out
	focus        float64 // power of a feature's concentration on few categories in its weight; 0 is IDF alone
	alpha        float64 // additive smoothing of the feature counts
	genericShare float64 // share of everyday speech in the background
	threshold    float64 // less evidence than this for the best category answers the fallback
	temperature  float64 // softmax temperature turning evidence into Confidence
	turnDecay    float64 // the k-th customer turn weighs turnDecay^k
	agentWeight  float64 // an agent turn after the greeting, relative to the customer turn before it
}

func defaultConfig() config {
	return config{
		minN: 1, maxN: 2, words: true, rewrite: true, coarse: 0.5, focus: 0.5,
		alpha:        1,
		genericShare: 0.5,
		threshold:    12,
		temperature:  8,
		turnDecay:    0.7,
		agentWeight:  0.2,
	}
}

// Classifier is the embedded classifier of one taxonomy. It is immutable after
// New and safe for concurrent use.
type Classifier struct {
	cfg     config
	tax     *classify.Taxonomy
	paths   []classify.Path
	classes int

	chars gramTable        // character n-gram (gramKey) → feature id
	words map[string]int32 // word → feature id
	// weights[f*classes+k] is how much feature f speaks for category k: its
	// log P(f | category k) − log P(f | background), times its weight.
	weights []float32

	scratch sync.Pool // *scratch
}

// New learns a classifier from the examples of tax, once per taxonomy version.
// Every category needs at least one example.
func New(tax *classify.Taxonomy) (*Classifier, error) {
	return newWithConfig(tax, defaultConfig())
}

func newWithConfig(tax *classify.Taxonomy, cfg config) (*Classifier, error) {
	if tax == nil || len(tax.Categories) == 0 {
		return nil, errors.New("embedded classifier: empty taxonomy")
	}
	if cfg.minN < 1 || cfg.maxN < cfg.minN || cfg.maxN > maxGramRunes {
		return nil, fmt.Errorf("embedded classifier: n-grams of %d..%d runes: want 1 <= min <= max <= %d", cfg.minN, cfg.maxN, maxGramRunes)
	}
	c := &Classifier{
		cfg:     cfg,
		tax:     tax,
		classes: len(tax.Categories),
		words:   map[string]int32{},
	}
	c.scratch.New = func() any { return &scratch{evidence: make([]float64, c.classes)} }

	// Count each feature per category, and in how many examples it occurs.
	chars := map[uint64]int32{}
	var (
		counts   [][]float64 // by category, then feature id
		df       []int
		examples int
		work     textBufs
	)
	for _, cat := range tax.Categories {
		c.paths = append(c.paths, cat.Path)
		if len(cat.Examples) == 0 {
			return nil, fmt.Errorf("embedded classifier: category %s has no examples", cat.Path)
		}
		var perFeature []float64
		for _, text := range cat.Examples {
			examples++
			seen := map[int32]bool{}
			add := func(id int32, ok bool) int32 {
				if !ok {
					id = int32(len(df))
					df = append(df, 0)
				}
				if !seen[id] {
					seen[id] = true
					df[id]++
				}
				if int(id) >= len(perFeature) {
					perFeature = append(perFeature, make([]float64, int(id)+1-len(perFeature))...)
				}
				perFeature[id]++
				return id
			}
			cfg.features(&work, text,
				func(key uint64) { id, ok := chars[key]; chars[key] = add(id, ok) },
				func(w []byte) { id, ok := c.words[string(w)]; c.words[string(w)] = add(id, ok) })
		}
		counts = append(counts, perFeature)
	}
	features := len(df)

	// A feature's weight is its IDF (how rare it is), times its
	// concentration on few categories to the power focus (how much it tells
	// them apart), times coarse for a coarse bigram (a weaker match).
	weight := make([]float64, features)
	for f, d := range df {
		weight[f] = math.Log(float64(1+examples)/float64(1+d)) + 1
	}
	c.chars = newGramTable(chars)
	for key, id := range chars {
		if key&coarseFlag != 0 {
			weight[id] *= cfg.coarse
		}
	}
	if cfg.focus > 0 {
		for f, g := range concentration(counts, features) {
			weight[f] *= math.Pow(g, cfg.focus)
		}
	}

	everyday, everydayTotal := make([]float64, features), 0.0
	count := func(id int32, ok bool) {
		everydayTotal++
		if ok {
			everyday[id]++
		}
	}
	for _, text := range generic {
		cfg.features(&work, text,
			func(key uint64) { count(c.lookupChar(key)) },
			func(w []byte) { count(c.lookupWord(w)) })
	}

	// P(f | category) with additive smoothing; the background is an even mix
	// of the categories' average and of everyday speech.
	a, nf := cfg.alpha, float64(features)
	logP := make([][]float64, c.classes)
	background := make([]float64, features)
	for k, perFeature := range counts {
		total := 0.0
		for _, n := range perFeature {
			total += n
		}
		logP[k] = make([]float64, features)
		for f := range features {
			var n float64
			if f < len(perFeature) {
				n = perFeature[f]
			}
			p := (n + a) / (total + a*nf)
			logP[k][f] = math.Log(p)
			background[f] += (1 - cfg.genericShare) * p / float64(c.classes)
		}
	}
	c.weights = make([]float32, features*c.classes)
	for f := range features {
		bg := math.Log(background[f] + cfg.genericShare*(everyday[f]+a)/(everydayTotal+a*nf))
		for k := range c.classes {
			c.weights[f*c.classes+k] = float32(weight[f] * (logP[k][f] - bg))
		}
	}
	return c, nil
}

func (c *Classifier) lookupChar(key uint64) (int32, bool) { return c.chars.lookup(key) }

func (c *Classifier) lookupWord(w []byte) (int32, bool) { id, ok := c.words[string(w)]; return id, ok }

// Classify answers the category of in.Text: one utterance, or with
// in.Transcript a 상담원:/고객: transcript, classified on what the customer
// says and summarised. An answer with too little evidence is the taxonomy's
// fallback, marked Fallback.
func (c *Classifier) Classify(ctx context.Context, in classify.Input) (classify.Result, error) {
	if err := ctx.Err(); err != nil {
		return classify.Result{}, fmt.Errorf("embedded classify: %w", err)
	}
	s := c.scratch.Get().(*scratch)
	defer c.scratch.Put(s)
	clear(s.evidence)
	s.turns = s.turns[:0]
	s.turnEvidence = s.turnEvidence[:0]

	var turns transcript.Turns
	if in.Transcript {
		turns = transcript.Parse(in.Text)
		if len(turns) > maxTurns {
			turns = turns[:maxTurns]
		}
		c.scoreTranscript(s, turns)
	} else {
		c.score(s, in.Text, s.evidence)
	}
	best, strength, confidence := c.decide(s, turns)

	res := classify.Result{Path: c.paths[best], Confidence: confidence, Backend: Backend}
	if strength < c.cfg.threshold {
		res.Path, res.Fallback = c.tax.Fallback, true
	}
	if in.Transcript {
		res.Summary = c.summarize(s, turns, best)
	}
	return res, nil
}

// scoreTranscript scores the turns that say what the call is about: the
// customer's, the earliest weighing most since callers state their need
// first, and lightly the agent's answers. The agent's greeting before the
// customer speaks ("넥서스 상담원 …입니다 무엇을 도와드릴까요") says nothing about
// the call and is left out. Each turn's own evidence is kept for the summary.
func (c *Classifier) scoreTranscript(s *scratch, turns transcript.Turns) {
	customerWeight := 0.0 // of the latest customer turn; 0 before the first
	for i, t := range turns {
		var w float64
		switch t.Speaker {
		case transcript.Customer, transcript.Unknown:
			if customerWeight == 0 {
				customerWeight = 1
			} else {
				customerWeight *= c.cfg.turnDecay
			}
			w = customerWeight
		case transcript.Agent:
			if customerWeight == 0 {
				continue // the greeting
			}
			w = c.cfg.agentWeight * customerWeight
		}
		from := len(s.turnEvidence)
		s.turnEvidence = slices.Grow(s.turnEvidence, c.classes)[:from+c.classes]
		evidence := s.turnEvidence[from:]
		clear(evidence)
		c.score(s, t.Text, evidence)
		for k, e := range evidence {
			s.evidence[k] += w * e
		}
		s.turns = append(s.turns, turnScore{turn: i, weight: w, from: from})
	}
}

// score adds to evidence, per category, the weighted log-likelihood ratios
// of text's features.
func (c *Classifier) score(s *scratch, text string, evidence []float64) {
	if len(text) > maxTextBytes {
		text = text[:maxTextBytes] // a torn last rune only loses its own n-grams
	}
	s.ids = s.ids[:0]
	add := func(id int32, ok bool) {
		if ok {
			s.ids = append(s.ids, id)
		}
	}
	c.cfg.features(&s.text, text,
		func(key uint64) { add(c.lookupChar(key)) },
		func(w []byte) { add(c.lookupWord(w)) })
	sumRows(evidence[:c.classes:c.classes], c.weights, s.ids)
}

// sumRows adds to evidence the weight rows of the features ids, each
// category's in the order of ids. It is most of a classification: eight
// categories at a time, each summed in a register across all the rows, so
// the sums stay out of memory until the end (the sums and their order are
// those of adding one row after the other).
func sumRows(evidence []float64, weights []float32, ids []int32) {
	n := len(evidence)
	k := 0
	for ; k+8 <= n; k += 8 {
		// Eight variables, not an array: the compiler keeps only these in
		// registers.
		e0, e1, e2, e3, e4, e5, e6, e7 := evidence[k], evidence[k+1], evidence[k+2], evidence[k+3],
			evidence[k+4], evidence[k+5], evidence[k+6], evidence[k+7]
		for _, id := range ids {
			w := weights[int(id)*n+k:][:8:8]
			e0 += float64(w[0])
			e1 += float64(w[1])
			e2 += float64(w[2])
			e3 += float64(w[3])
			e4 += float64(w[4])
			e5 += float64(w[5])
			e6 += float64(w[6])
			e7 += float64(w[7])
		}
		evidence[k], evidence[k+1], evidence[k+2], evidence[k+3] = e0, e1, e2, e3
		evidence[k+4], evidence[k+5], evidence[k+6], evidence[k+7] = e4, e5, e6, e7
	}
	for ; k < n; k++ {
		e := evidence[k]
		for _, id := range ids {
			e += float64(weights[int(id)*n+k])
		}
		evidence[k] = e
	}
}

// decide picks the category with the most evidence. strength is how much
// evidence there is for it: in the whole text, or in the transcript's
// clearest customer turn if that says more, since a long call's chit-chat
// (names, "네 알겠습니다") counts a little against every category. Below the
// threshold the caller said nothing the examples know. confidence is the
// category's share of the tempered posterior, in 0..1.
func (c *Classifier) decide(s *scratch, turns transcript.Turns) (best int, strength, confidence float64) {
	for k, e := range s.evidence {
		if e > s.evidence[best] {
			best = k
		}
	}
	strength = s.evidence[best]
	for _, ts := range s.turns {
		if turns[ts.turn].Speaker != transcript.Agent {
			strength = max(strength, s.turnEvidence[ts.from+best])
		}
	}
	var sum float64
	for _, e := range s.evidence {
		sum += math.Exp((e - s.evidence[best]) / c.cfg.temperature)
	}
	return best, strength, 1 / sum
}

// turnScore is one transcript turn's share of the evidence.
type turnScore struct {
	turn   int     // index in the parsed turns
	weight float64 // its weight in the transcript's evidence
	from   int     // its own evidence is scratch.turnEvidence[from:from+classes]
}

// scratch is one request's working memory, pooled so that classifying
// allocates next to nothing.
type scratch struct {
	text         textBufs
	evidence     []float64
	turns        []turnScore
	turnEvidence []float64
	ids          []int32 // the features of the text being scored
	summary      []byte
}

// textBufs is the working memory of turning a text into features.
type textBufs struct {
	normalized, rewritten []byte
	runes, coarse         []rune
}

// features calls char and word with the features of text.
func (cfg config) features(b *textBufs, text string, char func(key uint64), word func(w []byte)) {
	b.normalized = normalize(b.normalized, text)
	t := b.normalized
	if cfg.rewrite {
		b.rewritten = rewrite(b.rewritten, b.normalized)
		t = b.rewritten
	}
	b.runes = decodeRunes(b.runes, t)
	grams(t, b.runes, cfg.minN, cfg.maxN, cfg.words, char, word)
	if cfg.coarse > 0 {
		b.coarse = coarse(b.coarse, b.runes)
		coarseGrams(b.coarse, char)
	}
}

// concentration is, per feature, 1 − the entropy of the categories it is
// seen in (each category's counts relative to its size) over the most
// entropy there can be: 1 for a feature only one category uses ("영수증"),
// near 0 for one they all use alike ("주세요"). It is the supervised half
// of a feature's weight; IDF, which only knows how rare a feature is, is the
// other.
func concentration(counts [][]float64, features int) []float64 {
	const smoothing = 0.1 // of a count, so that one sighting is not certainty
	totals := make([]float64, len(counts))
	for k, perFeature := range counts {
		for _, n := range perFeature {
			totals[k] += n
		}
	}
	out := make([]float64, features)
	p := make([]float64, len(counts))
	maxEntropy := math.Log(float64(len(counts)))
	if maxEntropy == 0 {
		for f := range out {
			out[f] = 1
		}
		return out
	}
	for f := range features {
		var sum float64
		for k, perFeature := range counts {
			var n float64
			if f < len(perFeature) {
				n = perFeature[f]
			}
			p[k] = (n + smoothing) / totals[k]
			sum += p[k]
		}
		var h float64
		for _, q := range p {
			q /= sum
			h -= q * math.Log(q)
		}
		out[f] = 1 - h/maxEntropy
	}
	return out
}
