package broker_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-broker/mcp-broker/broker"
	"github.com/mcp-broker/mcp-broker/broker/demo/authserver"
	"github.com/mcp-broker/mcp-broker/broker/secrets"
)

// The worker half of TestConcurrentRefreshAcrossProcesses: a separate process that waits for
// the start time, asks for a credential once, and prints a fingerprint of it.
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
	b, err := broker.New(broker.Options{ConfigPath: os.Getenv("BROKER_TEST_CONFIG"), Secrets: store})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	start, err := time.Parse(time.RFC3339Nano, os.Getenv("BROKER_TEST_START"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	time.Sleep(time.Until(start))
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

// TestConcurrentRefreshAcrossProcesses: 10 processes ask for a token the moment it expires,
// with rotating refresh tokens. Exactly one refresh request may reach the AS (a second one
// would replay a rotated token and revoke the whole grant), and all 10 get the new token.
func TestConcurrentRefreshAcrossProcesses(t *testing.T) {
	const workers = 10
	const ttl = 8 * time.Second
	secretsDir := filepath.Join(t.TempDir(), "secrets")
	store, err := secrets.NewFileStore(secretsDir)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{as: authserver.Options{AccessTokenTTL: ttl}})
	b, err := broker.New(broker.Options{ConfigPath: e.config, Secrets: store, Opener: e.browser})
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
	// Start every worker at the instant the token reaches its refresh point.
	st, _ := b.Status()
	start := st[0].Expiry.Add(-ttl / 4)
	if time.Until(start) < 2*time.Second {
		t.Fatalf("signing in took too long: only %s left to start the workers", time.Until(start))
	}

	var wg sync.WaitGroup
	results := make([]string, workers)
	errs := make([]error, workers)
	for i := range workers {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "BROKER_TEST_WORKER=credential", "BROKER_TEST_SECRETS="+secretsDir,
			"BROKER_TEST_CONFIG="+e.config, "BROKER_TEST_START="+start.Format(time.RFC3339Nano))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if line := sc.Text(); strings.HasPrefix(line, "token ") {
					results[i] = line
				}
			}
			if err := cmd.Wait(); err != nil {
				errs[i] = fmt.Errorf("worker %d: %v: %s", i, err, stderr.String())
			}
		})
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
