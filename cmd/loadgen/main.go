// Command loadgen drives a running routebot with call turns from N
// concurrent connections for a fixed time and prints throughput and latency
// percentiles. Each connection plays whole demo calls (greeting, then an
// utterance that is classified and routed), so the server does the same
// work as for the gateway.
//
//	go run ./cmd/loadgen -url http://127.0.0.1:8080 -c 32 -d 10s
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

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "routebot's base URL")
	scenario := flag.String("scenario", "SCENARIO01", "scenario code")
	conns := flag.Int("c", 32, "concurrent connections")
	dur := flag.Duration("d", 10*time.Second, "how long to run (bounded: at most 5m)")
	warm := flag.Duration("warmup", 2*time.Second, "load before measuring")
	token := flag.String("token", envOr("ROUTEBOT_API_TOKEN", "routebot-dev-token"), "bearer token")
	flag.Parse()
	if *dur > 5*time.Minute || *conns < 1 || *conns > 1024 {
		log.Fatal("loadgen: -d at most 5m, -c 1..1024")
	}

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns}}
	url := *base + "/" + *scenario
	var measuring atomic.Bool
	var errs, non200 atomic.Int64
	lat := make([][]time.Duration, *conns)
	deadline := time.Now().Add(*warm + *dur)
	time.AfterFunc(*warm, func() { measuring.Store(true) })

	var wg sync.WaitGroup
	for c := 0; c < *conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for call := 0; time.Now().Before(deadline); call++ {
				id := "LG-" + strconv.Itoa(c) + "-" + strconv.Itoa(call)
				bodies := [][]byte{
					fmt.Appendf(nil, `{"CallId":%q,"ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"IsFirstChat":"Y"}`, id),
					fmt.Appendf(nil, `{"CallId":%q,"ChatBotKey":"bot00001","Customer":"01012345678","Agent":1000,"ScenarioCode":"greeting","ChatMsg":%q}`, id, utterances[call%len(utterances)]),
				}
				for _, body := range bodies {
					req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+*token)
					req.Header.Set("Content-Type", "application/json")
					start := time.Now()
					resp, err := client.Do(req)
					if err != nil {
						errs.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if measuring.Load() {
						lat[c] = append(lat[c], time.Since(start))
						if resp.StatusCode != http.StatusOK {
							non200.Add(1)
						}
					}
				}
			}
		}(c)
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		log.Fatalf("loadgen: no answered turns (%d transport errors)", errs.Load())
	}
	slices.Sort(all)
	pct := func(p int) time.Duration { return all[min(len(all)-1, len(all)*p/100)] }
	fmt.Printf("connections %d, %s measured: %d turns, %.0f turns/s\n", *conns, *dur, len(all), float64(len(all))/dur.Seconds())
	fmt.Printf("latency p50 %s  p90 %s  p99 %s  max %s\n", pct(50), pct(90), pct(99), all[len(all)-1])
	fmt.Printf("errors: %d transport, %d non-200\n", errs.Load(), non200.Load())
	if errs.Load() > 0 || non200.Load() > 0 {
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
