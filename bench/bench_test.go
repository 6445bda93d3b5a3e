package main

import (
	"bufio"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/jsonrpc"
)

// TestMain lets the test binary play a relay for TestStdioSession: with envRelay set it answers
// every request on stdin at once, as the echo tool would, until stdin closes.
func TestMain(m *testing.M) {
	if os.Getenv(envRelay) == "1" {
		fakeRelay()
		return
	}
	os.Exit(m.Run())
}

const envRelay = "MCP_BROKER_BENCH_TEST_RELAY"

func fakeRelay() {
	r := jsonrpc.NewReader(os.Stdin, 0)
	w := jsonrpc.NewWriter(os.Stdout)
	for {
		msg, err := r.Next()
		if err != nil {
			return
		}
		env, err := jsonrpc.Parse(msg)
		if err != nil || env.Kind != jsonrpc.KindRequest {
			continue
		}
		_ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(env.ID) + `,"result":{"content":[{"type":"text","text":"hello, world"}]}}`))
	}
}

func TestPercentileAndMedian(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100..1, unsorted
	}
	tests := []struct {
		name     string
		in       []time.Duration
		p        float64
		wantP    time.Duration
		wantMedi time.Duration
	}{
		{"empty", nil, 50, 0, 0},
		{"one", ms(7), 99, 7 * time.Millisecond, 7 * time.Millisecond},
		{"odd", ms(3, 1, 2), 50, 2 * time.Millisecond, 2 * time.Millisecond},
		{"even", ms(4, 1, 3, 2), 50, 2 * time.Millisecond, 2500 * time.Microsecond},
		{"p99 of 100", ms(hundred...), 99, 99 * time.Millisecond, 50500 * time.Microsecond},
		{"p50 of 100", ms(hundred...), 50, 50 * time.Millisecond, 50500 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.in, tt.p); got != tt.wantP {
				t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.wantP)
			}
			if got := median(tt.in); got != tt.wantMedi {
				t.Errorf("median = %v, want %v", got, tt.wantMedi)
			}
		})
	}
}

func TestParseMicro(t *testing.T) {
	out := `goos: linux
pkg: github.com/mcp-broker/mcp-broker/bridge/jsonrpc
BenchmarkReader/small-2    	 6938919	       159.1 ns/op	 905.25 MB/s	     144 B/op	       1 allocs/op
BenchmarkReader/small-2    	 6938919	       161.1 ns/op	 900.00 MB/s	     144 B/op	       1 allocs/op
BenchmarkReader/small-2    	 6938919	       300.0 ns/op	 400.00 MB/s	     144 B/op	       1 allocs/op
PASS
pkg: github.com/mcp-broker/mcp-broker/bridge/sse
BenchmarkSSE/8MiB-2         	     118	   9184855 ns/op	 913.31 MB/s	15737591 B/op	      29 allocs/op
BenchmarkNoUnits-16 	 10	 5 ns/op
`
	got := parseMicro(out)
	if len(got) != 3 {
		t.Fatalf("got %d results: %+v", len(got), got)
	}
	r := got[0]
	if r.Pkg != "github.com/mcp-broker/mcp-broker/bridge/jsonrpc" || r.Name != "BenchmarkReader/small" ||
		r.NsPerOp != 161.1 || r.MBPerS != 900 || r.BPerOp != 144 || r.AllocsOp != 1 {
		t.Errorf("reader: %+v (want the medians of the three runs)", r)
	}
	if s := got[1]; s.Pkg != "github.com/mcp-broker/mcp-broker/bridge/sse" || s.Name != "BenchmarkSSE/8MiB" || s.AllocsOp != 29 {
		t.Errorf("sse: %+v", s)
	}
	if n := got[2]; n.Name != "BenchmarkNoUnits" || n.NsPerOp != 5 || n.BPerOp != 0 {
		t.Errorf("no -benchmem: %+v", n)
	}
	table := microTable(got)
	for _, want := range []string{"bridge/jsonrpc", "Reader/small", "161.1", "SSE/8MiB", "15737591"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
}

// sampleResults are figures as a run would record them: the bridge meets some targets and
// misses others.
func sampleResults() *results {
	ms := func(v float64) []time.Duration { return []time.Duration{time.Duration(v * float64(time.Millisecond))} }
	mb := func(v float64) []int64 { return []int64{int64(v * 1e6)} }
	fig := func(cold, p50, idle, t32, peak32 float64, relay bool) *figures {
		f := &figures{
			Cold: ms(cold), SeqP50: ms(p50), SeqP99: ms(3 * p50), ConcP50: ms(2 * p50), ConcP99: ms(6 * p50),
			Throughput: []float64{1000 / p50},
			Sizes:      []sizeFigures{{Bytes: 1 << 20, Times: ms(t32 / 32)}, {Bytes: 32 << 20, Times: ms(t32)}},
		}
		if relay {
			f.IdleRSS, f.IdleAnon, f.CPUPer1000 = mb(idle), mb(idle/4), ms(100)
			f.Sizes[0].Peak, f.Sizes[1].Peak = mb(idle+3), mb(peak32)
		}
		return f
	}
	watched := func(cpu float64) *figures {
		f := fig(21, 0.36, 12.5, 290, 84, true)
		f.WatcherCPU = []float64{cpu}
		return f
	}
	return &results{
		Env: environment{CPU: "test CPU", Cores: 2, GoVersion: "go1.26", BinarySize: 16e6},
		Figures: map[transport]map[kind]*figures{
			streamableHTTP: {
				direct:        fig(1, 0.2, 0, 200, 0, false),
				bridgeK:       fig(20, 0.35, 12, 280, 84, true),
				bridgeWatched: watched(12),
				bridgeWindow:  watched(35),
				mcpRemote:     fig(800, 2, 120, 2000, 330, true),
			},
			legacySSE: {
				direct:  fig(1, 0.2, 0, 200, 0, false),
				bridgeK: fig(40, 0.6, 16, 400, 120, true),
			},
		},
		Skipped: map[kind]string{},
		Started: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC),
		Took:    4 * time.Minute,
	}
}

func TestEvaluate(t *testing.T) {
	got := map[string]verdict{}
	for _, v := range evaluate(sampleResults()) {
		got[string(v.Transport)+" "+v.Target] = v
	}
	tests := []struct {
		key         string
		met, known  bool
		measuredHas string
	}{
		{"streamable-http cold start ≤ 30 ms (median)", true, true, "20.0 ms"},
		{"sse cold start ≤ 30 ms (median)", false, true, "40.0 ms"},
		{"streamable-http ≤ 0.2 ms added p50 over direct (1 in flight)", true, true, "+0.150 ms"},
		{"sse ≤ 0.2 ms added p50 over direct (1 in flight)", false, true, "+0.400 ms"},
		{"streamable-http idle RSS ≤ 15 MB", true, true, "12.0 MB"},
		{"sse idle RSS ≤ 15 MB", false, true, "16.0 MB"},
		{"streamable-http 32 MiB relayed in ≤ 0.3 s", true, true, "0.280 s"},
		{"sse 32 MiB relayed in ≤ 0.3 s", false, true, "0.400 s"},
		{"streamable-http 32 MiB peak RSS ≤ 3× the message (100.7 MB)", true, true, "84.0 MB"},
		{"sse 32 MiB peak RSS ≤ 3× the message (100.7 MB)", false, true, "120.0 MB"},
		{"streamable-http ≥ 10× faster start than mcp-remote", true, true, "40.0×"},
		{"sse ≥ 10× faster start than mcp-remote", false, false, ""},
		{"streamable-http ≥ 5× less memory than mcp-remote (idle RSS)", true, true, "10.0×"},
		{"streamable-http ≥ 5× less memory than mcp-remote (32 MiB peak RSS)", false, true, "3.9×"},
	}
	for _, tt := range tests {
		v, ok := got[tt.key]
		if !ok {
			t.Errorf("no verdict %q", tt.key)
			continue
		}
		if v.Met != tt.met || v.Known != tt.known || !strings.Contains(v.Measured, tt.measuredHas) {
			t.Errorf("%s: %+v, want met=%v known=%v measured ~%q", tt.key, v, tt.met, tt.known, tt.measuredHas)
		}
	}
}

func TestReportFiles(t *testing.T) {
	res := sampleResults()
	res.Micro = parseMicro("pkg: x\nBenchmarkA-2 \t 10 \t 5 ns/op \t 0 B/op \t 0 allocs/op\n")
	dir := t.TempDir()
	if err := writeResults(dir, res); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"### Streamable HTTP", "### legacy HTTP+SSE", "cold start to initialize answer (ms)", " 20.0 |", "40.0×",
		"**NOT MET**", "not measured", "![chart](results.svg)", "Go microbenchmarks", "test CPU",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q", want)
		}
	}
	for _, row := range []string{
		`\| of it private \(RssAnon\), idle \(MB\) +\| +– \| +3\.0 \|`,
		`\| watcher CPU while measured \(% of a core\) +\| +– \| +– \| +12 \| +35 \|`,
	} {
		if !regexp.MustCompile(row).Match(md) {
			t.Errorf("results.md lacks a row like %s:\n%s", row, md)
		}
	}
	svg, err := os.ReadFile(filepath.Join(dir, "results.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if len(svg) > 20<<10 {
		t.Errorf("the chart is %d bytes: too big to commit", len(svg))
	}
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	rects := 0
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("the chart is not well-formed XML: %v", err)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	// Background, legend (one per client), and per panel a frame and a bar per client and
	// transport.
	if want := 1 + len(kinds) + len(chartPanels())*(1+2*len(kinds)); rects != want {
		t.Errorf("the chart has %d rects, want %d", rects, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "results.json")); err != nil {
		t.Error(err)
	}
}

// TestDirectClients signs in to the bench servers for real and calls both tools over both
// transports with the direct clients.
func TestDirectClients(t *testing.T) {
	srv, err := startServers()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	auth, err := signIn(t.Context(), t.TempDir(), srv.base)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			if !strings.HasPrefix(auth[tr], "Bearer ") {
				t.Fatal("no bearer token from the sign-in")
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			s, cold, err := directStarter(tr, endpoint(srv.base, tr), auth[tr])(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			if cold <= 0 || s.pid() != 0 {
				t.Errorf("cold = %v, pid = %d", cold, s.pid())
			}
			answer, err := s.call(ctx, 1, echoRequest(1), 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkAnswer(answer, 1, 0); err != nil || !strings.Contains(string(answer), "hello, world") {
				t.Errorf("echo: %v: %.200s", err, answer)
			}
			const n = 1 << 20
			answer, err = s.call(ctx, 2, blobRequest(2, n), n)
			if err != nil {
				t.Fatal(err)
			}
			if err := checkAnswer(answer, 2, n); err != nil {
				t.Error(err)
			}
			if err := checkAnswer(answer, 3, n); err == nil {
				t.Error("checkAnswer took an answer to 2 for one to 3")
			}
			if err := checkAnswer(answer, 2, 2*n); err == nil {
				t.Error("checkAnswer took a short answer")
			}
		})
	}
	// A token for one transport is refused by the other: the audience check works, so the
	// bench measures authorized requests.
	_, err = dialDirectHTTP(t.Context(), endpoint(srv.base, streamableHTTP), auth[legacySSE])
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("the SSE token on /mcp: %v, want HTTP 401", err)
	}
}

// TestStdioSession drives a relay over stdio (this test binary playing one) and reads its
// figures from /proc.
func TestStdioSession(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), envRelay+"=1")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, cold, err := startStdio(ctx, []string{self}, env, filepath.Join(t.TempDir(), "relay.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if cold <= 0 || s.pid() <= 0 {
		t.Errorf("cold = %v, pid = %d", cold, s.pid())
	}
	for id := int64(1); id <= 20; id++ {
		answer, err := s.call(ctx, id, echoRequest(id), 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkAnswer(answer, id, 0); err != nil {
			t.Fatal(err)
		}
	}
	if runtime.GOOS != "linux" {
		return
	}
	mem, err := readMemory(s.pid())
	if err != nil || mem.rss <= 0 || mem.hwm < mem.rss || mem.anon <= 0 || mem.anon > mem.rss {
		t.Errorf("readMemory = %+v, %v", mem, err)
	}
	if err := resetPeak(s.pid()); err != nil {
		t.Errorf("resetPeak: %v", err)
	}
	if _, err := cpuTime(s.pid()); err != nil {
		t.Errorf("cpuTime: %v", err)
	}
	pid := s.pid()
	s.close()
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if !strings.Contains(string(data), "zombie") {
			t.Errorf("the relay is still running after close")
		}
	}
}

func TestReadLineBigAndSmall(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	input := "small\n" + big + "\nlast"
	s := &stdioSession{}
	s.hint.Store(int64(len(big)))
	r := bufio.NewReaderSize(strings.NewReader(input), 1<<20)
	for _, want := range []string{"small", big} {
		got, err := s.readLine(r)
		if err != nil || string(got) != want {
			t.Fatalf("readLine = %d bytes, %v; want %d bytes", len(got), err, len(want))
		}
	}
	if got, err := s.readLine(r); string(got) != "last" || err == nil {
		t.Errorf("the unterminated last line: %q, %v", got, err)
	}
}
