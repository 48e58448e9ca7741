// Command loadgen drives a running routebot with call turns from N
// concurrent connections for a fixed time and prints throughput and latency
// percentiles. Each connection plays whole demo calls (greeting, then an
// utterance that is classified and routed), so the server does the same
// work as for the gateway.
//
// By default the load is a closed loop, as wrk's: each connection sends its
// next turn when the last is answered, so a slower server is offered less
// and, by Little's law, its mean latency is the connections over its
// throughput. With -rate the load is open, as a contact center's is: turns
// fall due at a fixed rate whatever the server does, and each turn's
// latency is counted from when it fell due, not from when a connection was
// free to send it (so a stalled server's queue is measured, not hidden). At
// a rate both servers sustain, that compares what a caller waits on each.
//
//	go run ./cmd/loadgen -url http://127.0.0.1:8080 -c 32 -d 10s [-rate 8000] [-terse]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

var utterances = []string{"상담원 연결해 주세요", "택배 배송 조회 좀 해주세요", "지난주에 산 책 환불받고 싶어요", "비밀번호를 바꾸고 싶어요"}

// config is one load run.
type config struct {
	url       string // the scenario's URL
	token     string
	conns     int
	dur, warm time.Duration
	rate      float64 // turns a second, open loop; 0: closed loop
}

// result is what a run measured.
type result struct {
	lat          []time.Duration // of the turns answered while measuring, sorted
	errs, non200 int64
	offered      int    // open loop: turns due while measuring
	firstNon200  string // its status and the start of its answer
}

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "routebot's base URL")
	scenario := flag.String("scenario", "SCENARIO01", "scenario code")
	conns := flag.Int("c", 32, "concurrent connections")
	dur := flag.Duration("d", 10*time.Second, "how long to run (bounded: at most 5m)")
	warm := flag.Duration("warmup", 2*time.Second, "load before measuring")
	rate := flag.Float64("rate", 0, "turns a second, due whatever the server answers (open loop); 0: each connection sends when answered (closed loop)")
	terse := flag.Bool("terse", false, "print one line: turns/s answered, turns/s offered, p50 and p99 in ms")
	token := flag.String("token", envOr("ROUTEBOT_API_TOKEN", "routebot-dev-token"), "bearer token")
	flag.Parse()
	if *dur <= 0 || *dur > 5*time.Minute || *conns < 1 || *conns > 1024 || *rate < 0 || *rate > 1e6 {
		log.Fatal("loadgen: -d above 0 and at most 5m, -c 1..1024, -rate 0..1000000")
	}
	res := run(config{url: *base + "/" + *scenario, token: *token, conns: *conns, dur: *dur, warm: *warm, rate: *rate})
	if len(res.lat) == 0 {
		if *rate > 0 {
			log.Fatalf("loadgen: none of the %d turns due while measuring was answered by %s after the run (%d transport errors): the server cannot sustain %.0f turns/s", res.offered, grace, res.errs, *rate)
		}
		log.Fatalf("loadgen: no answered turns (%d transport errors)", res.errs)
	}
	answered := float64(len(res.lat)) / dur.Seconds()
	if *terse {
		fmt.Printf("%.0f %.0f %.3f %.3f\n", answered, float64(res.offered)/dur.Seconds(), ms(res.pct(50)), ms(res.pct(99)))
	} else {
		fmt.Printf("connections %d, %s measured: %d turns, %.0f turns/s\n", *conns, *dur, len(res.lat), answered)
		if *rate > 0 {
			fmt.Printf("offered %.0f turns/s (open loop; latency counted from when each turn was due)\n", *rate)
		}
		fmt.Printf("latency p50 %s  p90 %s  p99 %s  max %s\n", res.pct(50), res.pct(90), res.pct(99), res.lat[len(res.lat)-1])
		fmt.Printf("errors: %d transport, %d non-200\n", res.errs, res.non200)
	}
	if res.firstNon200 != "" {
		fmt.Fprintln(os.Stderr, "loadgen: first non-200:", res.firstNon200)
	}
	if *rate > 0 && len(res.lat) < res.offered*99/100 {
		fmt.Fprintf(os.Stderr, "loadgen: answered %d of the %d turns due: the server cannot sustain %.0f turns/s, and the latencies are its queue\n", len(res.lat), res.offered, *rate)
	}
	if res.errs > 0 || res.non200 > 0 {
		os.Exit(1)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pct is the p-th percentile of the latencies (nearest rank).
func (r result) pct(p int) time.Duration {
	return r.lat[max(0, (len(r.lat)*p+99)/100-1)]
}

// turnBodies are call's two turns on connection c.
func turnBodies(c, call int) [2][]byte {
	id := "LG-" + strconv.Itoa(c) + "-" + strconv.Itoa(call)
	return [2][]byte{
		fmt.Appendf(nil, `{"CallId":%q,"ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"IsFirstChat":"Y"}`, id),
		fmt.Appendf(nil, `{"CallId":%q,"ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"ScenarioCode":"greeting","ChatMsg":%q}`, id, utterances[call%len(utterances)]),
	}
}

// grace is how long after the run's end an open loop still sends the turns
// that fell due before it, when the server is behind; the rest count as not
// answered.
const grace = time.Second

// run loads cfg.url for cfg.warm, then measures for cfg.dur.
func run(cfg config) result {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.conns, MaxConnsPerHost: cfg.conns}}
	defer client.CloseIdleConnections()
	start := time.Now()
	from, end := start.Add(cfg.warm), start.Add(cfg.warm+cfg.dur)
	// due hands a connection its next turn: when it fell due, whether it
	// is measured, and whether the run goes on.
	var due func() (at time.Time, measured, ok bool)
	var offered int
	if cfg.rate > 0 {
		first, last := firstSlot(start, cfg.rate, from), firstSlot(start, cfg.rate, end)
		offered = last - first
		var next atomic.Int64
		due = func() (time.Time, bool, bool) {
			i := int(next.Add(1) - 1)
			at := slot(start, cfg.rate, i)
			if i >= last || time.Now().After(end.Add(grace)) {
				return at, false, false
			}
			if d := time.Until(at); d > 0 {
				time.Sleep(d)
				// Timed from the wake-up, which a sleep overshoots by up to
				// a millisecond: that is the load generator's lateness, not
				// the server's. A turn taken late (every connection was
				// busy) is timed from its slot, so the queue is counted.
				return time.Now(), i >= first, true
			}
			return at, i >= first, true
		}
	} else {
		due = func() (time.Time, bool, bool) {
			now := time.Now()
			return now, !now.Before(from), now.Before(end)
		}
	}

	var errs, non200 atomic.Int64
	var once sync.Once
	var firstNon200 string
	lat := make([][]time.Duration, cfg.conns)
	var wg sync.WaitGroup
	for c := range cfg.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for call := 0; ; call++ {
				for _, body := range turnBodies(c, call) {
					at, measured, ok := due()
					if !ok {
						return
					}
					status, msg, err := post(client, cfg.url, cfg.token, body)
					took := time.Since(at)
					if err != nil {
						errs.Add(1)
						continue
					}
					if !measured {
						continue
					}
					lat[c] = append(lat[c], took)
					if status != http.StatusOK {
						non200.Add(1)
						once.Do(func() { firstNon200 = fmt.Sprintf("%d %s", status, msg) })
					}
				}
			}
		}()
	}
	wg.Wait()
	res := result{errs: errs.Load(), non200: non200.Load(), offered: offered, firstNon200: firstNon200}
	for _, l := range lat {
		res.lat = append(res.lat, l...)
	}
	slices.Sort(res.lat)
	return res
}

// slot is when the i-th turn of an open loop at rate turns a second from
// start is due: an even schedule, computed from i so that no sleep's error
// accumulates.
func slot(start time.Time, rate float64, i int) time.Time {
	return start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
}

// firstSlot is the index of the first slot at or after t.
func firstSlot(start time.Time, rate float64, t time.Time) int {
	i := max(0, int(t.Sub(start).Seconds()*rate)-1)
	for slot(start, rate, i).Before(t) {
		i++
	}
	return i
}

// post sends one turn and reads its answer; it keeps the start of a
// refusal's, to say why.
func post(client *http.Client, url, token string, body []byte) (status int, refusal string, err error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		refusal = string(b)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, refusal, err
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
