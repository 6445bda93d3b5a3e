// Package assertion reads the JWT a workload presents to an authorization server under
// workload identity federation (RFC 7523 JWT bearer grant): from a file its platform keeps
// fresh (a Kubernetes projected service account token, a CI job's OIDC token) or from the
// standard output of a command (a cloud CLI that prints an identity token).
//
// A JWT is read anew for each token request, because platforms rotate them and a stored copy
// would expire; this package never keeps, logs nor quotes one. Its errors say what is wrong
// with the source (no file, an empty one, a command that failed, with a summary of its
// standard error) and never carry the JWT or anything that looks like one.
package assertion

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Limits on what a source may produce: real JWTs are a few kilobytes.
const (
	maxJWT = 64 << 10
	// maxStderr caps what is read of a failing command's standard error, to summarise it.
	maxStderr = 16 << 10
	// summaryLen caps the summary of that standard error in an error.
	summaryLen = 200
	// DefaultTimeout bounds a command that prints the JWT.
	DefaultTimeout = 30 * time.Second
)

// Source is where a workload's JWT comes from: exactly one of File and Command.
type Source struct {
	// File is a file holding the JWT (surrounding white space is ignored).
	File string
	// Command is a command line, run by the shell (sh -c; cmd /C on Windows), that prints the
	// JWT on standard output.
	Command string
	// Timeout bounds Command; zero means DefaultTimeout.
	Timeout time.Duration
}

// Describe names the source for people, without running or reading it.
func (s Source) Describe() string {
	if s.File != "" {
		return "the assertion file " + s.File
	}
	return "the assertion command"
}

// Read returns the JWT, read now.
func (s Source) Read(ctx context.Context) (string, error) {
	var raw []byte
	var err error
	switch {
	case s.File != "" && s.Command != "":
		return "", errors.New("the workload's JWT has two sources, a file and a command: keep one")
	case s.File != "":
		raw, err = readFile(s.File)
	case s.Command != "":
		raw, err = s.run(ctx)
	default:
		return "", errors.New("the workload's JWT has no source: give a file or a command")
	}
	if err != nil {
		return "", err
	}
	jwt := strings.TrimSpace(string(raw))
	switch {
	case jwt == "":
		return "", fmt.Errorf("%s gave no JWT: it is empty", s.Describe())
	case !looksLikeJWT(jwt):
		return "", fmt.Errorf("%s gave something that is not a JWT (three base64url parts separated by dots)", s.Describe())
	}
	return jwt, nil
}

// readFile reads a JWT file, capped.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the assertion file %s does not exist", path)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the assertion file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJWT+1))
	if err != nil {
		return nil, fmt.Errorf("reading the assertion file %s: %w", path, err)
	}
	if len(data) > maxJWT {
		return nil, fmt.Errorf("the assertion file %s is larger than %d bytes: not a JWT", path, maxJWT)
	}
	return data, nil
}

// run runs the command and returns its standard output.
func (s Source) run(ctx context.Context) ([]byte, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := shell(ctx, s.Command)
	var stdout limitedBuffer
	stdout.max = maxJWT
	var stderr limitedBuffer
	stderr.max = maxStderr
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	switch {
	case ctx.Err() != nil && err != nil:
		return nil, fmt.Errorf("the assertion command did not finish within %s", timeout)
	case err != nil:
		var exit *exec.ExitError
		what := err.Error()
		if errors.As(err, &exit) {
			what = fmt.Sprintf("exit status %d", exit.ExitCode())
		}
		msg := "the assertion command failed (" + what + ")"
		if sum := summarize(stderr.Bytes()); sum != "" {
			msg += ": " + sum
		}
		return nil, errors.New(msg)
	case stdout.over:
		return nil, fmt.Errorf("the assertion command printed more than %d bytes: not a JWT", maxJWT)
	}
	return stdout.Bytes(), nil
}

// shell returns the command line as the platform's shell runs it.
func shell(ctx context.Context, line string) *exec.Cmd {
	if runtime.GOOS == "windows" {
		return exec.CommandContext(ctx, "cmd.exe", "/C", line)
	}
	return exec.CommandContext(ctx, "/bin/sh", "-c", line)
}

// jwtLike finds what looks like a compact JWS or JWE: base64url parts separated by dots, the
// first a JOSE header ("eyJ", base64url of `{"`). Compiled at first use: every bridge start
// links this package.
var jwtLike = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`eyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){2,4}`) })

// looksLikeJWT reports whether s is one compact JWT and nothing else: a JWS (three parts) or a
// JWE (five), each part base64url, the header and the payload (a JWE's initialisation vector)
// not empty.
func looksLikeJWT(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 && len(parts) != 5 {
		return false
	}
	if parts[0] == "" || parts[len(parts)/2] == "" {
		return false
	}
	for _, p := range parts {
		for _, r := range p {
			if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// summarize turns a failing command's standard error into one short line for an error: its
// last non-empty line (where tools put the reason), printable characters only, anything that
// looks like a JWT replaced, cut to summaryLen.
func summarize(stderr []byte) string {
	lines := strings.Split(strings.TrimSpace(string(bytes.ToValidUTF8(stderr, nil))), "\n")
	last := ""
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			last = l
			break
		}
	}
	last = jwtLike().ReplaceAllString(last, "[a JWT, not shown]")
	last = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, last)
	if r := []rune(last); len(r) > summaryLen {
		last = string(r[:summaryLen]) + "…"
	}
	return last
}

// limitedBuffer keeps at most max bytes and notes whether more came.
type limitedBuffer struct {
	bytes.Buffer
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room < len(p) {
		b.over = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil // keep the command running to its end; what it says past the cap is dropped
	}
	return b.Buffer.Write(p)
}
