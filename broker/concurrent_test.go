package broker_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
	"github.com/mcp-broker/mcp-broker/internal/demo/authserver"
)

// The worker half of TestConcurrentRefreshAcrossProcesses: a separate process that says it is
// ready, waits for the start (its stdin closing), asks for a credential once, and prints a
// fingerprint of it.
func TestMain(m *testing.M) {
	if os.Getenv("BROKER_TEST_WORKER") == "credential" {
		os.Exit(credentialWorker())
	}
	os.Exit(m.Run())
}

func credentialWorker() int {
	store, err := secrets.NewFileStore(os.Getenv("BROKER_TEST_SECRETS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// The worker's clock stands at the test's time, past the token's refresh point.
	now, err := time.Parse(time.RFC3339Nano, os.Getenv("BROKER_TEST_NOW"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b, err := broker.New(broker.Options{ConfigPath: os.Getenv("BROKER_TEST_CONFIG"), Secrets: store, Now: func() time.Time { return now }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	// The test closes every worker's stdin once all are ready: they ask at once.
	io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cred, err := b.Credential(ctx, "demo")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// A short fingerprint, so that the test output never holds the token itself.
	fmt.Printf("token %x\n", fingerprint(cred.Value))
	return 0
}

func fingerprint(s string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// TestConcurrentRefreshAcrossProcesses: 10 processes ask for a token at once, once it is due
// for a refresh, with rotating refresh tokens. Exactly one refresh request may reach the AS (a
// second one would replay a rotated token and revoke the whole grant), and all 10 get the new
// token. Time passes on a clock the AS and the processes share.
func TestConcurrentRefreshAcrossProcesses(t *testing.T) {
	const workers = 10
	secretsDir := filepath.Join(t.TempDir(), "secrets")
	store, err := secrets.NewFileStore(secretsDir)
	if err != nil {
		t.Fatal(err)
	}
	clock := newClock()
	e := newEnv(t, envOptions{as: authserver.Options{AccessTokenTTL: time.Hour, Now: clock.now}})
	b, err := broker.New(broker.Options{ConfigPath: e.config, Secrets: store, Opener: e.browser, Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Login(t.Context(), "demo", broker.LoginOptions{}); err != nil {
		t.Fatal(err)
	}
	e.browser.Wait()
	first, err := b.Credential(t.Context(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	// The workers ask when the token has expired.
	clock.advance(time.Hour)
	now := clock.now().Format(time.RFC3339Nano)

	var wg, ready sync.WaitGroup
	results := make([]string, workers)
	errs := make([]error, workers)
	starts := make([]io.Closer, workers)
	ready.Add(workers)
	for i := range workers {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "BROKER_TEST_WORKER=credential", "BROKER_TEST_SECRETS="+secretsDir,
			"BROKER_TEST_CONFIG="+e.config, "BROKER_TEST_NOW="+now)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if starts[i], err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			var once sync.Once
			defer once.Do(ready.Done) // a worker that dies before it is ready must not hold the start
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				switch line := sc.Text(); {
				case line == "ready":
					once.Do(ready.Done)
				case strings.HasPrefix(line, "token "):
					results[i] = line
				}
			}
			if err := cmd.Wait(); err != nil {
				errs[i] = fmt.Errorf("worker %d: %v: %s", i, err, stderr.String())
			}
		})
	}
	ready.Wait()
	for _, start := range starts {
		start.Close()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if s := e.as.Stats(); s.Refreshes != 1 || s.RefreshReuse != 0 {
		t.Errorf("AS saw %d refreshes and %d reuses of a rotated refresh token, want exactly 1 and 0", s.Refreshes, s.RefreshReuse)
	}
	want := fmt.Sprintf("token %x", fingerprint(first.Value))
	for i, r := range results {
		if r == "" || r == want || r != results[0] {
			t.Errorf("worker %d got %q; want the same new token for all (old was %q)", i, r, want)
		}
	}
}
