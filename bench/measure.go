package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcp-broker/mcp-broker/bridge/retry"
)

// plan says how much of each measurement to take. The defaults keep `make bench` within a few
// minutes on a 2-core machine; -quick shrinks everything for a smoke run.
type plan struct {
	coldReps    map[kind]int // process starts (connections for direct) per transport
	rounds      int          // latency rounds, each with a fresh session
	warmup      int          // calls before anything is measured in a round
	idleCalls   int          // calls before the idle RSS is read
	idleWait    time.Duration
	seqCalls    int // one at a time, per round
	concCalls   int // with inFlight in flight, per round
	inFlight    int
	sizes       []int         // bytes of the big results
	sizeReps    int           // calls per size, each size in a fresh session...
	sizeBudget  time.Duration // ...fewer when they take longer than this in all (at least one)
	callTimeout time.Duration
}

func defaultPlan() plan {
	return plan{
		coldReps:    map[kind]int{direct: 30, bridgeK: 30, bridgeWatched: 30, bridgeWindow: 30, mcpRemote: 10},
		rounds:      3,
		warmup:      20,
		idleCalls:   100,
		idleWait:    time.Second,
		seqCalls:    1000,
		concCalls:   2000,
		inFlight:    10,
		sizes:       []int{1 << 20, 8 << 20, 32 << 20},
		sizeReps:    5,
		sizeBudget:  20 * time.Second,
		callTimeout: 120 * time.Second,
	}
}

func quickPlan() plan {
	p := defaultPlan()
	p.coldReps = map[kind]int{direct: 3, bridgeK: 3, bridgeWatched: 3, bridgeWindow: 3, mcpRemote: 2}
	p.rounds, p.warmup, p.idleCalls, p.idleWait = 1, 5, 100, 200*time.Millisecond
	p.seqCalls, p.concCalls, p.sizeReps = 100, 100, 1
	return p
}

// figures are what was measured of one client on one transport. Slices hold one value per
// repetition (cold starts, rounds, calls); the report takes their medians.
type figures struct {
	Cold       []time.Duration `json:"cold_start_ns"`
	SeqP50     []time.Duration `json:"seq_p50_ns"`
	SeqP99     []time.Duration `json:"seq_p99_ns"`
	ConcP50    []time.Duration `json:"conc_p50_ns"`
	ConcP99    []time.Duration `json:"conc_p99_ns"`
	Throughput []float64       `json:"throughput_per_s"`
	IdleRSS    []int64         `json:"idle_rss_bytes,omitempty"`
	// IdleAnon is the anonymous part of IdleRSS (RssAnon): what each further relay adds.
	IdleAnon   []int64         `json:"idle_anon_bytes,omitempty"`
	CPUPer1000 []time.Duration `json:"cpu_per_1000_calls_ns,omitempty"`
	// WatcherCPU is the CPU the traffic watcher (bridgeWatched, bridgeWindow) used while the
	// relay was measured, in percent of one core.
	WatcherCPU []float64     `json:"watcher_cpu_percent,omitempty"`
	Sizes      []sizeFigures `json:"sizes"`
	Err        string        `json:"error,omitempty"`
}

// sizeFigures are the big-result figures for one size.
type sizeFigures struct {
	Bytes int             `json:"bytes"`
	Times []time.Duration `json:"times_ns"`
	Peak  []int64         `json:"peak_rss_bytes,omitempty"` // the relay's VmHWM over the calls
}

// starter opens a session of one client on one transport, and says how long it took to get the
// answer to initialize.
type starter func(ctx context.Context) (session, time.Duration, error)

// measurer runs the plan against one starter.
type measurer struct {
	plan  plan
	start starter
	log   *slog.Logger
	ids   atomic.Int64
	// procStats says whether the relay's /proc figures can be read (Linux, a relay process).
	procStats bool
}

func (m *measurer) nextID() int64 { return m.ids.Add(1) }

// run measures everything, in the order cold start, latency rounds, sizes. It stops at the
// first failure and records it; what was measured until then stays.
func (m *measurer) run(ctx context.Context, k kind, f *figures) {
	if err := m.runAll(ctx, k, f); err != nil {
		f.Err = err.Error()
		m.log.Error("measurement failed", "err", err)
	}
}

func (m *measurer) runAll(ctx context.Context, k kind, f *figures) error {
	for i := range m.plan.coldReps[k] {
		s, cold, err := m.open(ctx)
		if err != nil {
			return fmt.Errorf("cold start %d: %w", i+1, err)
		}
		s.close()
		f.Cold = append(f.Cold, cold)
	}
	for r := range m.plan.rounds {
		if err := m.round(ctx, f); err != nil {
			return fmt.Errorf("latency round %d: %w", r+1, err)
		}
	}
	for _, size := range m.plan.sizes {
		sf, err := m.size(ctx, size)
		f.Sizes = append(f.Sizes, sf)
		if err != nil {
			return fmt.Errorf("%d MiB results: %w", size>>20, err)
		}
	}
	return nil
}

func (m *measurer) open(ctx context.Context) (session, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return m.start(ctx)
}

// callEcho makes one small call and checks its answer.
func (m *measurer) callEcho(ctx context.Context, s session) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, m.plan.callTimeout)
	defer cancel()
	id := m.nextID()
	start := time.Now()
	answer, err := s.call(ctx, id, echoRequest(id), 0)
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	return d, checkAnswer(answer, id, 0)
}

// round is one latency round on a fresh session: warm-up, the idle RSS after idleCalls calls,
// then seqCalls calls one at a time (latency and the relay's CPU time) and concCalls with
// inFlight in flight (latency and throughput).
func (m *measurer) round(ctx context.Context, f *figures) error {
	s, _, err := m.open(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	for range max(m.plan.warmup, m.plan.idleCalls) {
		if _, err := m.callEcho(ctx, s); err != nil {
			return err
		}
	}
	if m.procStats {
		// Idle: the client waits, as Claude Code does between tool calls. Go's runtime returns
		// memory in the background; a second is what a person takes to read an answer.
		if !retry.Sleep(ctx, m.plan.idleWait) {
			return ctx.Err()
		}
		mem, err := readMemory(s.pid())
		if err != nil {
			return err
		}
		f.IdleRSS = append(f.IdleRSS, mem.rss)
		f.IdleAnon = append(f.IdleAnon, mem.anon)
	}

	var cpu0 time.Duration
	if m.procStats {
		if cpu0, err = cpuTime(s.pid()); err != nil {
			return err
		}
	}
	seq := make([]time.Duration, 0, m.plan.seqCalls)
	for range m.plan.seqCalls {
		d, err := m.callEcho(ctx, s)
		if err != nil {
			return err
		}
		seq = append(seq, d)
	}
	if m.procStats {
		cpu1, err := cpuTime(s.pid())
		if err != nil {
			return err
		}
		f.CPUPer1000 = append(f.CPUPer1000, (cpu1-cpu0)*1000/time.Duration(m.plan.seqCalls))
	}
	f.SeqP50 = append(f.SeqP50, percentile(seq, 50))
	f.SeqP99 = append(f.SeqP99, percentile(seq, 99))

	conc, wall, err := m.concurrent(ctx, s)
	if err != nil {
		return err
	}
	f.ConcP50 = append(f.ConcP50, percentile(conc, 50))
	f.ConcP99 = append(f.ConcP99, percentile(conc, 99))
	f.Throughput = append(f.Throughput, float64(len(conc))/wall.Seconds())
	return nil
}

// concurrent makes concCalls calls from inFlight goroutines, each starting its next call as
// soon as its last is answered.
func (m *measurer) concurrent(ctx context.Context, s session) ([]time.Duration, time.Duration, error) {
	var (
		mu      sync.Mutex
		lat     = make([]time.Duration, 0, m.plan.concCalls)
		left    atomic.Int64
		firstEr error
		wg      sync.WaitGroup
	)
	left.Store(int64(m.plan.concCalls))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for range m.plan.inFlight {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				d, err := m.callEcho(ctx, s)
				mu.Lock()
				if err != nil {
					if firstEr == nil {
						firstEr = err
					}
					mu.Unlock()
					cancel()
					return
				}
				lat = append(lat, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return lat, time.Since(start), firstEr
}

// size measures results of n bytes on a fresh session: the time of each call, and the relay's
// peak RSS over them (reset after the session's warm-up, so it is the peak of the big calls).
func (m *measurer) size(ctx context.Context, n int) (sizeFigures, error) {
	sf := sizeFigures{Bytes: n}
	s, _, err := m.open(ctx)
	if err != nil {
		return sf, err
	}
	defer s.close()
	if _, err := m.callEcho(ctx, s); err != nil {
		return sf, err
	}
	if m.procStats {
		if err := resetPeak(s.pid()); err != nil {
			return sf, fmt.Errorf("resetting the peak RSS: %w", err)
		}
	}
	began := time.Now()
	for i := range m.plan.sizeReps {
		if i > 0 && time.Since(began) > m.plan.sizeBudget {
			m.log.Info("fewer repetitions: the calls are slow", "bytes", n, "calls", i)
			break
		}
		runtime.GC() // the direct client's garbage from the last call must not slow this one
		cctx, cancel := context.WithTimeout(ctx, m.plan.callTimeout)
		id := m.nextID()
		start := time.Now()
		answer, err := s.call(cctx, id, blobRequest(id, n), n+1024)
		d := time.Since(start)
		cancel()
		if err != nil {
			return sf, err
		}
		if err := checkAnswer(answer, id, n); err != nil {
			return sf, err
		}
		sf.Times = append(sf.Times, d)
	}
	if m.procStats {
		mem, err := readMemory(s.pid())
		if err != nil {
			return sf, err
		}
		sf.Peak = append(sf.Peak, mem.hwm)
	}
	return sf, nil
}

// percentile returns the p-th percentile of ds (nearest rank), 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(p/100*float64(len(s))+0.999999) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// median returns the median of vs (the mean of the middle two for an even count), 0 for none.
func median[T int64 | float64 | time.Duration](vs []T) T {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
