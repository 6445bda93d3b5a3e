package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// A figure is one row of the table: how to read it from a client's figures.
type figure struct {
	name  string
	unit  string
	value func(f *figures) (float64, bool)
	// digits after the point when printed.
	digits int
	// higherIsBetter for throughput; the ratio columns are plain quotients either way.
	higherIsBetter bool
}

const mb = 1e6 // memory is reported in MB (10^6 bytes); message sizes in MiB

func durMs(ds []time.Duration) (float64, bool) {
	if len(ds) == 0 {
		return 0, false
	}
	return float64(median(ds)) / float64(time.Millisecond), true
}

func bytesMB(vs []int64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	return float64(median(vs)) / mb, true
}

func sizeOf(f *figures, n int) *sizeFigures {
	for i := range f.Sizes {
		if f.Sizes[i].Bytes == n {
			return &f.Sizes[i]
		}
	}
	return nil
}

// figureRows are the rows of each transport's table, in order.
func figureRows(sizes []int) []figure {
	rows := []figure{
		{name: "cold start to initialize answer", unit: "ms", digits: 1, value: func(f *figures) (float64, bool) { return durMs(f.Cold) }},
		{name: "tools/call p50, 1 in flight", unit: "ms", digits: 3, value: func(f *figures) (float64, bool) { return durMs(f.SeqP50) }},
		{name: "tools/call p99, 1 in flight", unit: "ms", digits: 3, value: func(f *figures) (float64, bool) { return durMs(f.SeqP99) }},
		{name: "tools/call p50, 10 in flight", unit: "ms", digits: 3, value: func(f *figures) (float64, bool) { return durMs(f.ConcP50) }},
		{name: "tools/call p99, 10 in flight", unit: "ms", digits: 3, value: func(f *figures) (float64, bool) { return durMs(f.ConcP99) }},
		{name: "throughput, 10 in flight", unit: "calls/s", digits: 0, higherIsBetter: true, value: func(f *figures) (float64, bool) {
			if len(f.Throughput) == 0 {
				return 0, false
			}
			return median(f.Throughput), true
		}},
	}
	for _, n := range sizes {
		rows = append(rows, figure{name: fmt.Sprintf("%d MiB result: time", n>>20), unit: "ms", digits: 1, value: func(f *figures) (float64, bool) {
			if s := sizeOf(f, n); s != nil {
				return durMs(s.Times)
			}
			return 0, false
		}})
	}
	for _, n := range sizes {
		rows = append(rows, figure{name: fmt.Sprintf("%d MiB result: relay peak RSS", n>>20), unit: "MB", digits: 1, value: func(f *figures) (float64, bool) {
			if s := sizeOf(f, n); s != nil {
				return bytesMB(s.Peak)
			}
			return 0, false
		}})
	}
	return append(rows,
		figure{name: "relay RSS, idle after 100 calls", unit: "MB", digits: 1, value: func(f *figures) (float64, bool) { return bytesMB(f.IdleRSS) }},
		figure{name: "of it private (RssAnon), idle", unit: "MB", digits: 1, value: func(f *figures) (float64, bool) { return bytesMB(f.IdleAnon) }},
		figure{name: "relay CPU per 1,000 calls", unit: "ms", digits: 0, value: func(f *figures) (float64, bool) { return durMs(f.CPUPer1000) }},
		figure{name: "watcher CPU while measured", unit: "% of a core", digits: 0, value: func(f *figures) (float64, bool) {
			if len(f.WatcherCPU) == 0 {
				return 0, false
			}
			return median(f.WatcherCPU), true
		}},
	)
}

// value returns a row's median for one client, if measured.
func (r figure) of(res *results, t transport, k kind) (float64, bool) {
	f := res.Figures[t][k]
	if f == nil {
		return 0, false
	}
	return r.value(f)
}

func (r figure) format(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', r.digits, 64)
}

func ratio(a, b float64, aok, bok bool) string {
	if !aok || !bok || b == 0 {
		return "–"
	}
	q := a / b
	switch {
	case q >= 100:
		return fmt.Sprintf("%.0f×", q)
	case q >= 10:
		return fmt.Sprintf("%.1f×", q)
	}
	return fmt.Sprintf("%.2f×", q)
}

// table renders one transport's figures as a Markdown table with aligned columns, which reads
// as well in a terminal.
func table(res *results, t transport) string {
	header := []string{"figure (median)", "direct", "bridge", "bridge, watched", "bridge, window open", "mcp-remote", "bridge ÷ direct", "watched ÷ bridge", "window ÷ bridge", "mcp-remote ÷ bridge"}
	rows := [][]string{header}
	for _, r := range figureRows(sizesOf(res)) {
		d, dok := r.of(res, t, direct)
		b, bok := r.of(res, t, bridgeK)
		w, wok := r.of(res, t, bridgeWatched)
		win, winok := r.of(res, t, bridgeWindow)
		m, mok := r.of(res, t, mcpRemote)
		rows = append(rows, []string{
			r.name + " (" + r.unit + ")", r.format(d, dok), r.format(b, bok), r.format(w, wok), r.format(win, winok), r.format(m, mok),
			ratio(b, d, bok, dok), ratio(w, b, wok, bok), ratio(win, b, winok, bok), ratio(m, b, mok, bok),
		})
	}
	return markdownTable(rows, []bool{false, true, true, true, true, true, true, true, true, true})
}

// markdownTable pads every column to its widest cell; right marks right-aligned columns.
func markdownTable(rows [][]string, right []bool) string {
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var sb strings.Builder
	line := func(cells []string) {
		sb.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if right[i] {
				sb.WriteString(" " + pad + c + " |")
			} else {
				sb.WriteString(" " + c + pad + " |")
			}
		}
		sb.WriteString("\n")
	}
	line(rows[0])
	sep := make([]string, len(width))
	for i, w := range width {
		if right[i] {
			sep[i] = strings.Repeat("-", max(w-1, 1)) + ":"
		} else {
			sep[i] = strings.Repeat("-", w)
		}
	}
	line(sep)
	for _, row := range rows[1:] {
		line(row)
	}
	return sb.String()
}

func sizesOf(res *results) []int {
	seen := map[int]bool{}
	var out []int
	for _, t := range transports {
		for _, k := range kinds {
			if f := res.Figures[t][k]; f != nil {
				for _, s := range f.Sizes {
					if !seen[s.Bytes] {
						seen[s.Bytes] = true
						out = append(out, s.Bytes)
					}
				}
			}
		}
	}
	if len(out) == 0 {
		return defaultPlan().sizes
	}
	return out
}

// verdict is one target, checked.
type verdict struct {
	Transport transport `json:"transport"`
	Target    string    `json:"target"`
	Measured  string    `json:"measured"`
	Met       bool      `json:"met"`
	Known     bool      `json:"known"` // false: a figure it needs is missing
}

// The targets for the bridge.
const (
	targetColdMs      = 30.0
	targetAddedP50Ms  = 0.2
	targetIdleMB      = 15.0
	target32MiBMs     = 300.0
	targetPeakFactor  = 3.0
	targetStartFactor = 10.0
	targetMemFactor   = 5.0
)

func evaluate(res *results) []verdict {
	var out []verdict
	rows := figureRows(sizesOf(res))
	get := func(t transport, k kind, name string) (float64, bool) {
		for _, r := range rows {
			if r.name == name {
				return r.of(res, t, k)
			}
		}
		return 0, false
	}
	for _, t := range transports {
		if res.Figures[t] == nil {
			continue
		}
		add := func(target string, measured string, met, known bool) {
			out = append(out, verdict{Transport: t, Target: target, Measured: measured, Met: met && known, Known: known})
		}
		cold, ok := get(t, bridgeK, rows[0].name)
		add(fmt.Sprintf("cold start ≤ %.0f ms (median)", targetColdMs), fmt.Sprintf("%.1f ms", cold), cold <= targetColdMs, ok)

		bp, bok := get(t, bridgeK, rows[1].name)
		dp, dok := get(t, direct, rows[1].name)
		add(fmt.Sprintf("≤ %.1f ms added p50 over direct (1 in flight)", targetAddedP50Ms), fmt.Sprintf("%+.3f ms", bp-dp), bp-dp <= targetAddedP50Ms, bok && dok)

		idle, ok := get(t, bridgeK, "relay RSS, idle after 100 calls")
		add(fmt.Sprintf("idle RSS ≤ %.0f MB", targetIdleMB), fmt.Sprintf("%.1f MB", idle), idle <= targetIdleMB, ok)

		tm, ok := get(t, bridgeK, "32 MiB result: time")
		add(fmt.Sprintf("32 MiB relayed in ≤ %.1f s", target32MiBMs/1000), fmt.Sprintf("%.3f s", tm/1000), tm <= target32MiBMs, ok)

		peak, ok := get(t, bridgeK, "32 MiB result: relay peak RSS")
		limit := targetPeakFactor * float64(32<<20) / mb
		add(fmt.Sprintf("32 MiB peak RSS ≤ %.0f× the message (%.1f MB)", targetPeakFactor, limit), fmt.Sprintf("%.1f MB (%.2f×)", peak, peak*mb/float64(32<<20)), peak <= limit, ok)

		mc, mok := get(t, mcpRemote, rows[0].name)
		add(fmt.Sprintf("≥ %.0f× faster start than mcp-remote", targetStartFactor), fmt.Sprintf("%.1f×", mc/cold), mc >= targetStartFactor*cold, mok && cold > 0)

		mi, miok := get(t, mcpRemote, "relay RSS, idle after 100 calls")
		add(fmt.Sprintf("≥ %.0f× less memory than mcp-remote (idle RSS)", targetMemFactor), fmt.Sprintf("%.1f×", mi/idle), mi >= targetMemFactor*idle, miok && idle > 0)

		mp, mpok := get(t, mcpRemote, "32 MiB result: relay peak RSS")
		add(fmt.Sprintf("≥ %.0f× less memory than mcp-remote (32 MiB peak RSS)", targetMemFactor), fmt.Sprintf("%.1f×", mp/peak), mp >= targetMemFactor*peak, mpok && peak > 0)
	}
	return out
}

func targetsTable(vs []verdict) string {
	rows := [][]string{{"transport", "target", "measured", "result"}}
	for _, v := range vs {
		result := "met"
		switch {
		case !v.Known:
			result, v.Measured = "not measured", "–"
		case !v.Met:
			result = "**NOT MET**"
		}
		rows = append(rows, []string{v.Transport.title(), v.Target, v.Measured, result})
	}
	return markdownTable(rows, []bool{false, false, true, false})
}

// renderText is the report printed at the end of `make bench`, also the body of results.md.
func renderText(res *results) string {
	var sb strings.Builder
	if res.Quick {
		sb.WriteString("(-quick: a smoke run with few repetitions; the figures are not meant to be quoted)\n\n")
	}
	for _, t := range transports {
		if res.Figures[t] == nil {
			continue
		}
		fmt.Fprintf(&sb, "### %s\n\n%s\n", t.title(), table(res, t))
		for _, k := range kinds {
			if f := res.Figures[t][k]; f != nil && f.Err != "" {
				fmt.Fprintf(&sb, "%s on %s stopped early: %s\n\n", k, t.title(), f.Err)
			}
		}
	}
	for k, why := range res.Skipped {
		fmt.Fprintf(&sb, "%s was not measured: %s\n\n", k, why)
	}
	fmt.Fprintf(&sb, "### Targets (the bridge; reported, never failed on)\n\n%s\n", targetsTable(evaluate(res)))
	if len(res.Micro) > 0 {
		fmt.Fprintf(&sb, "### Go microbenchmarks (framing, envelope, SSE parser)\n\n%s\n", microTable(res.Micro))
	}
	return sb.String()
}

// markdown is results.md: the report with what was measured, how, and on what.
func markdown(res *results) string {
	e := res.Env
	var sb strings.Builder
	sb.WriteString("# `make bench`: mcp-broker bridge vs a direct client vs mcp-remote\n\n")
	sb.WriteString("Generated by `make bench` (bench); do not edit by hand.\n\n")
	fmt.Fprintf(&sb, "Run %s, took %s. Machine: %s, %d cores, %s. Bridge: %s, %.1f MB binary (%s).",
		res.Started.Format("2006-01-02 15:04 UTC"), res.Took.Round(time.Second), orUnknown(e.CPU), e.Cores, orUnknown(e.Kernel),
		e.GoVersion, float64(e.BinarySize)/mb, e.BinarySettings)
	if e.MCPRemote != "" {
		fmt.Fprintf(&sb, " mcp-remote %s on Node %s.", e.MCPRemote, e.Node)
	}
	if e.LoadStart != "" {
		fmt.Fprintf(&sb, " Load average (1 min): %s at the start, %s at the end.", e.LoadStart, e.LoadEnd)
	}
	if e.GOGC != "" || e.GOMEMLIMIT != "" {
		fmt.Fprintf(&sb, " Environment: GOGC=%q GOMEMLIMIT=%q.", e.GOGC, e.GOMEMLIMIT)
	}
	sb.WriteString("\n\n")
	sb.WriteString(`Everything runs on 127.0.0.1. A server process of the bench's own runs the in-repo
authorization server and a bench MCP server (mcp-go: Streamable HTTP at /mcp answering in JSON,
legacy HTTP+SSE at /sse; bearer auth with an audience per transport; an echo tool, and a blob
tool returning N bytes of text). The token comes from a real sign-in through the broker
(registration, PKCE, code exchange), kept in the file secret store of a temporary config folder.

- **direct**: a Go client in the measuring process speaking the transport straight to the
  server with the token: the floor. It has no relay process, so no RSS or CPU figures.
- **bridge**: ` + "`mcp-broker bridge --server NAME`" + ` (the binary ` + "`make build`" + ` makes), driven over
  stdio as Claude Code drives it (initialize written at once, one JSON-RPC message per line),
  reading the stored token. No one watches its traffic.
- **bridge, watched**: the same, while ` + "`mcp-broker traffic --follow`" + ` (bodies off) runs
  beside it, reading and printing every event: the bridge describes every message and writes
  its timeline. "watched ÷ bridge" is what watching costs; the bridge column is what the
  timeline costs when no one watches (one atomic load a message).
- **bridge, window open**: the same, while the app (` + "`mcp-broker-tray --show timeline`" + `, under
  the display ` + "`make bench`" + ` gives it) shows the traffic in its Timeline window: the watching
  above, plus the app reading and drawing every event on the same two cores.
- **mcp-remote**: ` + "`node proxy.js URL --allow-http --transport http-only|sse-only --header Authorization:${VAR}`" + `
  with the same token (from the environment, never on the command line), driven the same way,
  with HOME and MCP_REMOTE_CONFIG_DIR isolated.

Cold start: from process start (a new HTTP connection for direct) to the answer to initialize;
30 starts (10 for mcp-remote). Latency: a small tools/call (echo), 1,000 one at a time, then
2,000 with 10 in flight, per round; 3 rounds, each on a fresh session; the table shows the
median of the rounds. Big results: a fresh session per size, 5 calls (fewer when they take
over 20 s in all); time is the median call, peak RSS the relay's VmHWM over the calls (reset
after warm-up). Idle RSS: VmRSS one second after the first 100 calls; "of it private" is its
RssAnon (heap, stacks, written data), what each further relay adds: the rest is the program's
file pages, which every relay of the same binary shares (for the bridge, they grow with the
binary's size). CPU: the relay's
utime+stime over the 1,000 one-at-a-time calls. The bench's own processes collect garbage only
at 1 GiB, on memory touched at start, so that their page faults stay out of every figure.

![chart](results.svg)

`)
	sb.WriteString(renderText(res))
	return sb.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// writeResults writes results.md, results.svg and results.json into dir.
func writeResults(dir string, res *results) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	for name, content := range map[string][]byte{
		"results.md":   []byte(markdown(res)),
		"results.svg":  []byte(chart(res)),
		"results.json": append(data, '\n'),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}

// microResult is one Go microbenchmark: the median of its runs.
type microResult struct {
	Pkg      string  `json:"pkg"`
	Name     string  `json:"name"`
	NsPerOp  float64 `json:"ns_per_op"`
	MBPerS   float64 `json:"mb_per_s,omitempty"`
	BPerOp   float64 `json:"bytes_per_op"`
	AllocsOp float64 `json:"allocs_per_op"`
}

// parseMicro reads `go test -bench -benchmem` output; several runs of one benchmark (-count)
// are reduced to their medians.
func parseMicro(out string) []microResult {
	type acc struct {
		pkg, name              string
		ns, mbs, bytes, allocs []float64
	}
	var order []string
	all := map[string]*acc{}
	pkg := ""
	for _, line := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i] // the GOMAXPROCS suffix
			}
		}
		key := pkg + " " + name
		a := all[key]
		if a == nil {
			a = &acc{pkg: pkg, name: name}
			all[key] = a
			order = append(order, key)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				a.ns = append(a.ns, v)
			case "MB/s":
				a.mbs = append(a.mbs, v)
			case "B/op":
				a.bytes = append(a.bytes, v)
			case "allocs/op":
				a.allocs = append(a.allocs, v)
			}
		}
	}
	out2 := make([]microResult, 0, len(order))
	for _, key := range order {
		a := all[key]
		out2 = append(out2, microResult{Pkg: a.pkg, Name: a.name, NsPerOp: median(a.ns), MBPerS: median(a.mbs), BPerOp: median(a.bytes), AllocsOp: median(a.allocs)})
	}
	return out2
}

func microTable(ms []microResult) string {
	rows := [][]string{{"package", "benchmark", "ns/op", "MB/s", "B/op", "allocs/op"}}
	for _, m := range ms {
		mbs := "–"
		if m.MBPerS > 0 {
			mbs = strconv.FormatFloat(m.MBPerS, 'f', 0, 64)
		}
		rows = append(rows, []string{
			strings.TrimPrefix(m.Pkg, "github.com/mcp-broker/mcp-broker/"), strings.TrimPrefix(m.Name, "Benchmark"),
			strconv.FormatFloat(m.NsPerOp, 'f', -1, 64), mbs,
			strconv.FormatFloat(m.BPerOp, 'f', 0, 64), strconv.FormatFloat(m.AllocsOp, 'f', 0, 64),
		})
	}
	return markdownTable(rows, []bool{false, false, true, true, true, true})
}
