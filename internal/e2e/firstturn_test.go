package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routebot/routebot/functions/gateway"
	"github.com/routebot/routebot/functions/scenario"
)

// BenchmarkFirstTurnFirestore is the first turn of a call on a warm instance
// on the Firestore emulator, over HTTP: the caller's name looked up, the
// call's session read and committed with its turn-log entry. Each iteration
// is a new call from a new number, as in production (a number's name is
// cached once looked up). Iterations alternate between the deployed
// handler, which looks the name up during the session's read
// (LookUpDuringRead), and one that looks it up first, so that both meet the
// same neighbours; each one's median is reported (p50-ms-during-read,
// p50-ms-before-read).
func BenchmarkFirstTurnFirestore(b *testing.B) {
	a := demoOnEmulator(b)
	opts := scenario.OptionsOf(a)
	if !opts.LookUpDuringRead {
		b.Fatal("the deployed handler on Firestore does not look the name up during the read")
	}
	opts.LookUpDuringRead = false
	before := scenario.FromAppWith(a, opts)
	during := httptest.NewServer(gateway.New(a))
	b.Cleanup(during.Close)
	first := httptest.NewServer(before)
	b.Cleanup(first.Close)
	greet := func(srv *httptest.Server, callID, phone string) time.Duration {
		body := `{"CallId":"` + callID + `","ChatBotKey":"bot00001","Customer":"` + phone + `","Agent":1000,"IsFirstChat":"Y"}`
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/SCENARIO01", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		began := time.Now()
		resp, err := srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		took := time.Since(began)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(answer), "고객님") {
			b.Fatalf("greeting of %s: HTTP %d %s, want an unknown caller's", callID, resp.StatusCode, answer)
		}
		return took
	}
	for i := range 5 { // the tenant's files, the connections, the first transactions
		greet(during, fmt.Sprintf("FT-warm-%d", i), fmt.Sprintf("0109%07d", i))
		greet(first, fmt.Sprintf("FT-warm-first-%d", i), fmt.Sprintf("0109%07d", i+5))
	}
	var took [2][]time.Duration // during, before
	i := 0
	for b.Loop() {
		srv := []*httptest.Server{during, first}[i%2]
		took[i%2] = append(took[i%2], greet(srv, fmt.Sprintf("FT-%d", i), fmt.Sprintf("0108%07d", i)))
		i++
	}
	for k, unit := range []string{"p50-ms-during-read", "p50-ms-before-read"} {
		if len(took[k]) > 0 {
			slices.Sort(took[k])
			b.ReportMetric(float64(took[k][len(took[k])/2].Microseconds())/1000, unit)
		}
	}
}
