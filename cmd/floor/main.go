// Command floor is the reference routebot's HTTP turn is measured against:
// a bare net/http server that reads each request's body and answers a fixed
// seed-003 envelope, doing none of routebot's work. It does the HTTP work a
// turn cannot avoid as routebot does it (the same server timeouts, so the
// same per-request deadline system calls; the body read into a pooled
// buffer; the same headers; an answer of the same size), so under the same
// load its turns/s and latency are the most net/http allows on this machine,
// and the ratio routebot/floor is a figure that travels between machines
// where absolute numbers do not (scripts/bench-http.sh prints it).
//
// With -spin it burns that much CPU per request before answering: a
// handler of known cost, to see what a handler's cost does to the ratio
// (docs/performance.md: adding 10 µs per request costs ~17 µs of CPU per
// turn under the same load, the write system calls included).
//
//	go run ./cmd/floor -addr 127.0.0.1:8090 [-spin 10us]
package main

import (
	"bytes"
	"flag"
	"io"
	"log"
	"net/http"
	"sync"
	"time"
)

// envelope is an S0000 answer as routebot encodes it for the greeting.
const envelope = `{"CallId":"W1-1","ChatBotKey":"bot00001","Result":"Y","ServiceCode":"S0000","TransCode":"200","ScenarioCode":"greeting","Description":"안녕하세요 김민수님, 넥서스 고객센터입니다. 무엇을 도와드릴까요?","Timeout":7}`

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	spin := flag.Duration("spin", 0, "CPU to burn per request before answering")
	flag.Parse()
	body := []byte(envelope)
	srv := &http.Server{
		Addr: *addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			buf := bufPool.Get().(*bytes.Buffer)
			buf.Reset()
			defer bufPool.Put(buf)
			_, _ = buf.ReadFrom(io.LimitReader(r.Body, 64<<10+1))
			for start := time.Now(); time.Since(start) < *spin; {
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(body)
		}),
		// cmd/local's settings (WriteTimeout: its default post-call timeout
		// plus 5s): each costs a deadline per request.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      25 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	log.Printf("floor: serving a fixed envelope on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
