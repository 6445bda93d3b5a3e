package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// fakeXDGOpen is `xdg-open URL`: like the real one, it hands the URL to a browser and returns
// at once. The "browser" is a detached copy of this program that follows the redirects; it
// must not hold the suite's stdout or stderr, so it writes to the driver's browser log.
func fakeXDGOpen(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "xdg-open: want one URL")
		return 1
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "xdg-open:", err)
		return 1
	}
	logPath := os.Getenv(envBrowserLog)
	if logPath == "" {
		logPath = os.DevNull
	}
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "xdg-open:", err)
		return 1
	}
	defer logFile.Close()
	cmd := exec.Command(self, args[0])
	cmd.Env = append(os.Environ(), envFollow+"=1")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "xdg-open:", err)
		return 1
	}
	_ = cmd.Process.Release() // it exits by itself once the redirects are followed
	return 0
}

// follow plays a browser whose user approves at once: GET the URL and follow the redirects
// to the loopback callback. It never prints the URLs' queries (they carry the code).
func follow(args []string) int {
	if len(args) != 1 {
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		fmt.Println("browser: bad URL:", err)
		return 1
	}
	hops := 0
	hc := &http.Client{CheckRedirect: func(r *http.Request, via []*http.Request) error {
		hops++
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
	resp, err := hc.Do(req)
	if err != nil {
		fmt.Println("browser: following the sign-in URL:", err)
		return 1
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	final := *resp.Request.URL
	final.RawQuery = ""
	fmt.Printf("browser: %d redirect(s), ended on %s with %s (%d bytes)\n", hops, final.Redacted(), resp.Status, len(bytes.TrimSpace(body)))
	return 0
}
