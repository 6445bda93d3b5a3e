package claudeconfig

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Environment variables that turn the test binary into a writer process for
// TestAddConcurrentWriters: the project folder, the first server number, and how many to add.
const (
	envWriterDir   = "MCP_BROKER_CLAUDECONFIG_TEST_DIR"
	envWriterFirst = "MCP_BROKER_CLAUDECONFIG_TEST_FIRST"
	envWriterCount = "MCP_BROKER_CLAUDECONFIG_TEST_COUNT"
)

// TestMain runs a writer instead of the tests when the environment asks for it, so that the
// concurrency test can start this very binary as other processes.
func TestMain(m *testing.M) {
	if dir := os.Getenv(envWriterDir); dir != "" {
		if err := runWriter(dir, os.Getenv(envWriterFirst), os.Getenv(envWriterCount)); err != nil {
			fmt.Fprintln(os.Stderr, "writer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runWriter adds servers first … first+count-1 to .mcp.json in dir, one Add each.
func runWriter(dir, firstText, countText string) error {
	first, err := strconv.Atoi(firstText)
	if err != nil {
		return err
	}
	count, err := strconv.Atoi(countText)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := Writer{Binary: testBinary}
	for i := first; i < first+count; i++ {
		if _, err := w.Add(ctx, Target{Scope: ScopeProject, Dir: dir}, serverName(i), AddOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func serverName(i int) string { return fmt.Sprintf("s%03d", i) }

// TestAddConcurrentWriters: 300 goroutines and, at the same time, 20 other processes add
// distinct servers to one project's .mcp.json. Every entry must be there afterwards, in valid
// JSON: each writer's read-modify-write runs under the file's lock, so none undoes another's.
func TestAddConcurrentWriters(t *testing.T) {
	const goroutines, processes, perProcess = 300, 20, 3
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	cmds := make([]*exec.Cmd, processes)
	for i := range cmds {
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			envWriterDir+"="+e.known,
			envWriterFirst+"="+strconv.Itoa(goroutines+i*perProcess),
			envWriterCount+"="+strconv.Itoa(perProcess),
		)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for i := range goroutines {
		wg.Go(func() {
			if _, err := e.w.Add(ctx, project(e), serverName(i), AddOptions{}); err != nil {
				errs <- fmt.Errorf("goroutine %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer process %d: %v", i, err)
		}
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	var doc struct {
		MCPServers map[string]Server `json:"mcpServers"`
	}
	if err := json.Unmarshal(mustRead(t, e.mcpJSON()), &doc); err != nil {
		t.Fatalf("%s is not valid JSON after the concurrent writes: %v", e.mcpJSON(), err)
	}
	total := goroutines + processes*perProcess
	var lost []string
	for i := range total {
		if s, ok := doc.MCPServers[serverName(i)]; !ok || s.Env[EnvServer] != serverName(i) {
			lost = append(lost, serverName(i))
		}
	}
	if len(lost) > 0 || len(doc.MCPServers) != total {
		t.Errorf("%d entries of %d, lost %d: %v", len(doc.MCPServers), total, len(lost), lost)
	}
	assertOnly(t, e.known, ".mcp.json", ".mcp.json.bak")
}
