package doctor

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/discovery"
)

// sseResult is what a legacy HTTP+SSE probe saw.
type sseResult struct {
	status      int
	contentType string
	endpoint    string // data of the first endpoint event, "" if none came
	err         error
}

// probeSSE GETs serverURL as a legacy HTTP+SSE client would and waits at
// most legacySSEWait seconds for the endpoint event, reading no more than
// maxSSEPeekBytes. The stream is closed as soon as the event (or the
// deadline) arrives; the session it opened on the server is abandoned.
func probeSSE(ctx context.Context, f *discovery.Fetcher, serverURL string) sseResult {
	ctx, cancel := context.WithTimeout(ctx, legacySSEWait*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, serverURL, nil)
	if err != nil {
		return sseResult{err: err}
	}
	req.Header.Set("Accept", "text/event-stream")
	version := f.ProtocolVersion
	if version == "" {
		version = discovery.DefaultProtocolVersion
	}
	req.Header.Set("MCP-Protocol-Version", version)
	resp, err := f.Client().Do(req)
	if err != nil {
		return sseResult{err: err}
	}
	defer resp.Body.Close()
	r := sseResult{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type")}
	if !is2xx(resp.StatusCode) || mediaType(r.contentType) != "text/event-stream" {
		return r
	}
	r.endpoint, r.err = endpointEvent(io.LimitReader(resp.Body, maxSSEPeekBytes))
	return r
}

// endpointEvent reads SSE events until one named "endpoint" and returns its
// data; comments and other events are skipped.
func endpointEvent(body io.Reader) (string, error) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 4096), 16<<10)
	var event string
	var data []string
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" { // end of an event
			if event == "endpoint" && len(data) > 0 {
				return strings.Join(data, "\n"), nil
			}
			event, data = "", nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			event = value
		case "data":
			data = append(data, value)
		}
	}
	return "", sc.Err()
}
