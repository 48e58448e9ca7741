package stream

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/dialogflow/apiv2beta1/dialogflowpb"
	"github.com/coder/websocket"
	"github.com/googleapis/gax-go/v2"

	"github.com/routebot/routebot/internal/streamfake"
)

// timedParticipants reports when each audio request has been sent.
type timedParticipants struct {
	Participants
	sent chan time.Time
}

func (p timedParticipants) BidiStreamingAnalyzeContent(ctx context.Context, opts ...gax.CallOption) (dialogflowpb.Participants_BidiStreamingAnalyzeContentClient, error) {
	st, err := p.Participants.BidiStreamingAnalyzeContent(ctx, opts...)
	return timedStream{st, p.sent}, err
}

type timedStream struct {
	dialogflowpb.Participants_BidiStreamingAnalyzeContentClient
	sent chan time.Time
}

func (s timedStream) Send(r *dialogflowpb.BidiStreamingAnalyzeContentRequest) error {
	err := s.Participants_BidiStreamingAnalyzeContentClient.Send(r)
	if r.GetInput() != nil {
		s.sent <- time.Now()
	}
	return err
}

// BenchmarkFrameToRequest is the latency the relay adds: from the audio
// frame that completes a 100 ms chunk being handed over to that chunk's
// request having been sent by the gRPC client (the real v2beta1 client, to
// the fake on bufconn). Frames are 20 ms, as telephony sends them.
func BenchmarkFrameToRequest(b *testing.B) {
	fake := &streamfake.Participants{ChunkBytes: 1600, Forget: true}
	p := timedParticipants{fakeClient(b, fake), make(chan time.Time, 1)}
	r := NewRelay(p, testParticipant, pcm8k, 0, RelayOptions{ReplayWindow: time.Minute}, func(Frame) {}, discard())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	frame := make([]byte, 320)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		for range 4 {
			r.Audio(slices.Clone(frame))
		}
		f := slices.Clone(frame)
		t0 := time.Now()
		r.Audio(f)
		lat = append(lat, (<-p.sent).Sub(t0))
	}
	b.StopTimer()
	r.Stop()
	<-done
	cancel()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
}

// BenchmarkMemoryPerStream opens legs through the WebSocket server, each
// having sent a second of audio, and reports the heap they hold each: the
// service's leg, relay and gRPC stream, and (in this process too) the test's
// client socket and the fake's server stream, so an upper bound.
func BenchmarkMemoryPerStream(b *testing.B) {
	const legs = 200
	for range b.N {
		ts := newTestServer(b, &streamfake.Participants{ChunkBytes: 1600, Forget: true}, Options{Logger: discard()})
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		conns := make([]*websocket.Conn, legs)
		second := make([]byte, 16000)
		for i := range conns {
			conns[i] = dial(b, ts.url)
			send(b, conns[i], websocket.MessageText, startFrame(fmt.Sprintf("MEM-%d", i), RoleEndUser))
			for off := 0; off < len(second); off += 320 {
				send(b, conns[i], websocket.MessageBinary, second[off:off+320])
			}
		}
		waitFor(b, "every leg's audio at the fake", func() bool {
			n := 0
			for _, s := range ts.fake.Streams() {
				if len(s.Finals) > 0 {
					n++
				}
			}
			return n == legs
		})
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/legs, "heap-B/stream")
		b.ReportMetric(float64(runtime.NumGoroutine())/legs, "goroutines/stream")
		for _, c := range conns {
			c.CloseNow()
		}
	}
}

// BenchmarkConcurrentStreams holds ROUTEBOT_BENCH_STREAMS (default 1000)
// 8 kHz legs at once through the WebSocket server for a 10 s window, each
// sending ROUTEBOT_BENCH_FRAME_MS (default 20) frames in real time, and reports the CPU the process spent
// per stream (clients and fake included: an upper bound) and how much of
// the audio reached the fake in time.
func BenchmarkConcurrentStreams(b *testing.B) {
	const window = 10 * time.Second
	legs, frameMs := 1000, 20
	if n, err := fmt.Sscan(os.Getenv("ROUTEBOT_BENCH_STREAMS"), &legs); n == 0 || err != nil {
		legs = 1000
	}
	if n, err := fmt.Sscan(os.Getenv("ROUTEBOT_BENCH_FRAME_MS"), &frameMs); n == 0 || err != nil || frameMs <= 0 {
		frameMs = 20
	}
	for range b.N {
		fake := &streamfake.Participants{ChunkBytes: 1600, Forget: true}
		// One gRPC connection per 50 legs, as StreamServer pools them.
		ts := newPooledTestServer(b, fake, Options{MaxStreams: legs, Logger: discard()}, (legs+49)/50)
		var finals, writeErrs atomic.Int64
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		frame := make([]byte, 16*frameMs)
		conns := make([]*websocket.Conn, legs)
		for i := range conns { // every leg opens before any audio flows
			conns[i] = dial(b, ts.url)
			send(b, conns[i], websocket.MessageText, startFrame(fmt.Sprintf("HOLD-%d", i), RoleEndUser))
		}
		for i, c := range conns {
			wg.Go(func() { // reader
				for {
					_, m, err := c.Read(ctx)
					if err != nil {
						return
					}
					if bytes.Contains(m, []byte(`"isFinal":true`)) {
						finals.Add(1)
					}
				}
			})
			wg.Go(func() { // writer: real time, staggered
				period := time.Duration(frameMs) * time.Millisecond
				time.Sleep(time.Duration(i) * period / time.Duration(legs))
				t := time.NewTicker(period)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
						// No per-write timer: 10,000 timers a second contend
						// on the runtime's timer lock and measure the harness.
						err := c.Write(ctx, websocket.MessageBinary, frame)
						if err != nil && ctx.Err() == nil {
							writeErrs.Add(1)
							return
						}
					}
				}
			})
		}
		waitFor(b, "every leg's stream", func() bool { return fake.Open() == legs })
		time.Sleep(time.Second) // settle
		chunks0 := totalChunks(fake)
		cpu0, t0 := cpuTime(), time.Now()
		time.Sleep(window)
		cpu1, elapsed := cpuTime(), time.Since(t0)
		chunks := totalChunks(fake) - chunks0
		var relayed int64
		ts.mu.Lock()
		for _, lg := range ts.legs {
			relayed += lg.relay.Received()
		}
		ts.mu.Unlock()
		b.ReportMetric(float64(relayed)/1600, "chunks-at-relays")
		b.ReportMetric(float64(totalChunks(fake)), "chunks-at-fake")
		cancel()
		wg.Wait()
		want := float64(legs) * elapsed.Seconds() * 10
		b.ReportMetric(float64(legs), "streams")
		b.ReportMetric(float64(writeErrs.Load()), "failed-sockets")
		b.ReportMetric(float64(ts.Streams()), "open")
		b.ReportMetric(100*float64(chunks)/want, "%audio-in-time")
		b.ReportMetric(100*(cpu1-cpu0).Seconds()/elapsed.Seconds()/float64(legs), "%core/stream")
		b.ReportMetric(float64(finals.Load())/float64(legs), "finals/stream")
	}
}

// totalChunks is every audio request the fake received.
func totalChunks(fake *streamfake.Participants) int {
	return fake.Received() / 1600
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkConcurrentRelays is BenchmarkConcurrentStreams without the
// WebSockets: ROUTEBOT_BENCH_STREAMS relays fed 100 ms of audio every 100 ms
// in-process, over a pool of one gRPC connection per 50 relays, to tell the
// relay's cost from the sockets'.
func BenchmarkConcurrentRelays(b *testing.B) {
	const window = 10 * time.Second
	legs := 1000
	if n, err := fmt.Sscan(os.Getenv("ROUTEBOT_BENCH_STREAMS"), &legs); n == 0 || err != nil {
		legs = 1000
	}
	for range b.N {
		fake := &streamfake.Participants{ChunkBytes: 1600, Forget: true}
		var pool []Participants
		for range (legs + 49) / 50 {
			pool = append(pool, fakeClient(b, fake))
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		relays := make([]*Relay, legs)
		for i := range relays {
			relays[i] = NewRelay(pool[i%len(pool)], testParticipant, pcm8k, 0, RelayOptions{}, func(Frame) {}, discard())
			wg.Go(func() { _ = relays[i].Run(ctx) })
		}
		waitFor(b, "every relay's stream", func() bool { return fake.Open() == legs })
		for i, r := range relays {
			wg.Go(func() {
				time.Sleep(time.Duration(i) * 100 * time.Millisecond / time.Duration(legs))
				t := time.NewTicker(100 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-ctx.Done():
						return
					case <-t.C:
						r.Audio(make([]byte, 1600))
					}
				}
			})
		}
		time.Sleep(time.Second)
		chunks0 := totalChunks(fake)
		cpu0, t0 := cpuTime(), time.Now()
		time.Sleep(window)
		cpu1, elapsed := cpuTime(), time.Since(t0)
		chunks := totalChunks(fake) - chunks0
		cancel()
		wg.Wait()
		b.ReportMetric(float64(legs), "streams")
		b.ReportMetric(100*float64(chunks)/(float64(legs)*elapsed.Seconds()*10), "%audio-in-time")
		b.ReportMetric(100*(cpu1-cpu0).Seconds()/elapsed.Seconds()/float64(legs), "%core/stream")
	}
}

// benchClientURL, set in a child process's environment, makes the test
// binary the gateway's side of BenchmarkServiceStreams.
const benchClientURL = "ROUTEBOT_BENCH_CLIENT_URL"

// BenchmarkServiceStreams is BenchmarkConcurrentStreams with the clients in
// a process of their own, so the CPU reported per stream is the service's
// (with the fake Dialogflow, in its process: still an upper bound).
func BenchmarkServiceStreams(b *testing.B) {
	const window = 10 * time.Second
	legs, frameMs := 1000, 20
	if n, err := fmt.Sscan(os.Getenv("ROUTEBOT_BENCH_STREAMS"), &legs); n == 0 || err != nil {
		legs = 1000
	}
	if n, err := fmt.Sscan(os.Getenv("ROUTEBOT_BENCH_FRAME_MS"), &frameMs); n == 0 || err != nil || frameMs <= 0 {
		frameMs = 20
	}
	for range b.N {
		fake := &streamfake.Participants{ChunkBytes: 1600, Forget: true}
		ts := newPooledTestServer(b, fake, Options{MaxStreams: legs, Logger: discard()}, (legs+49)/50)
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), benchClientURL+"="+ts.url, fmt.Sprintf("ROUTEBOT_BENCH_STREAMS=%d", legs),
			fmt.Sprintf("ROUTEBOT_BENCH_FRAME_MS=%d", frameMs), fmt.Sprintf("ROUTEBOT_BENCH_SECONDS=%d", int(window/time.Second)+3))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		waitFor(b, "every leg's stream", func() bool { return fake.Open() == legs })
		time.Sleep(time.Second)
		chunks0 := totalChunks(fake)
		cpu0, t0 := cpuTime(), time.Now()
		time.Sleep(window)
		cpu1, elapsed := cpuTime(), time.Since(t0)
		chunks := totalChunks(fake) - chunks0
		if err := cmd.Wait(); err != nil {
			b.Fatalf("client process: %v", err)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		clientCPU := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		b.ReportMetric(float64(legs), "streams")
		b.ReportMetric(100*float64(chunks)/(float64(legs)*elapsed.Seconds()*1000/100), "%audio-in-time")
		b.ReportMetric(100*(cpu1-cpu0).Seconds()/elapsed.Seconds()/float64(legs), "%core/stream")
		// The client's whole life (dialling included) over its streaming time.
		b.ReportMetric(100*clientCPU.Seconds()/float64(int(window/time.Second)+3)/float64(legs), "client-%core/stream")
	}
}

// runBenchClients is the client process: it opens the legs, streams 8 kHz
// PCM in real time for ROUTEBOT_BENCH_SECONDS, and exits.
func runBenchClients(url string) int {
	var legs, frameMs, secs int
	fmt.Sscan(os.Getenv("ROUTEBOT_BENCH_STREAMS"), &legs)
	fmt.Sscan(os.Getenv("ROUTEBOT_BENCH_FRAME_MS"), &frameMs)
	fmt.Sscan(os.Getenv("ROUTEBOT_BENCH_SECONDS"), &secs)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs)*time.Second+30*time.Second)
	defer cancel()
	conns := make([]*websocket.Conn, legs)
	for i := range conns {
		c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: map[string][]string{"Authorization": {"Bearer " + testToken}}})
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench client: dial:", err)
			return 1
		}
		if err := c.Write(ctx, websocket.MessageText, startFrame(fmt.Sprintf("SVC-%d", i), RoleEndUser)); err != nil {
			fmt.Fprintln(os.Stderr, "bench client: start:", err)
			return 1
		}
		conns[i] = c
	}
	stop := time.Now().Add(time.Duration(secs) * time.Second)
	frame := make([]byte, 16*frameMs)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
		})
		wg.Go(func() {
			period := time.Duration(frameMs) * time.Millisecond
			time.Sleep(time.Duration(i) * period / time.Duration(legs))
			t := time.NewTicker(period)
			defer t.Stop()
			for now := range t.C {
				if now.After(stop) {
					c.CloseNow()
					return
				}
				_ = c.Write(ctx, websocket.MessageBinary, frame)
			}
		})
	}
	wg.Wait()
	return 0
}
