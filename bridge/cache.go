package bridge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
	"github.com/mcp-broker/mcp-broker/broker/redact"
)

// cachedInit is the file that keeps a server's last answer to initialize. It is not secret:
// the server's name, version, capabilities and instructions. The URL it was given for is kept
// redacted (people put API keys in the query), and told apart from others by its hash.
type cachedInit struct {
	URL    string          `json:"url"`
	URLSum string          `json:"url_sha256"`
	Saved  time.Time       `json:"saved"`
	Result json.RawMessage `json:"result"`
}

// forURL reports whether the cached answer was given by the server at rawURL.
func (c cachedInit) forURL(rawURL string) bool {
	return c.URLSum != "" && c.URLSum == urlSum(rawURL)
}

// urlSum identifies a URL without holding it.
func urlSum(rawURL string) string {
	sum := sha256.Sum256([]byte(rawURL))
	return hex.EncodeToString(sum[:])
}

func (b *bridge) cachePath() string {
	if b.opts.CacheDir == "" {
		return ""
	}
	return filepath.Join(b.opts.CacheDir, b.name+".json")
}

// cachedInitialize returns the cached result for this server (nil if none), with listChanged
// set on tools, prompts and resources so that the client refetches once the session is up.
func (b *bridge) cachedInitialize() []byte {
	path := b.cachePath()
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var c cachedInit
	if json.Unmarshal(data, &c) != nil || !c.forURL(b.opts.Server.URL) || len(c.Result) == 0 {
		return nil
	}
	res, err := withListChanged(c.Result)
	if err != nil {
		return nil
	}
	return res
}

// withListChanged sets listChanged on the result's tools, prompts and resources capabilities
// (adding tools if absent). Only the capabilities are re-encoded.
func withListChanged(result []byte) ([]byte, error) {
	var r map[string]json.RawMessage
	if err := json.Unmarshal(result, &r); err != nil {
		return nil, err
	}
	var caps map[string]json.RawMessage
	if raw, ok := r["capabilities"]; ok {
		if err := json.Unmarshal(raw, &caps); err != nil {
			return nil, err
		}
	}
	if caps == nil {
		caps = map[string]json.RawMessage{}
	}
	for _, k := range []string{"tools", "prompts", "resources"} {
		raw, ok := caps[k]
		if !ok && k != "tools" {
			continue
		}
		var c map[string]json.RawMessage
		if ok {
			_ = json.Unmarshal(raw, &c)
		}
		if c == nil {
			c = map[string]json.RawMessage{}
		}
		c["listChanged"] = json.RawMessage("true")
		enc, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		caps[k] = enc
	}
	enc, err := json.Marshal(caps)
	if err != nil {
		return nil, err
	}
	r["capabilities"] = enc
	return json.Marshal(r)
}

// cacheInitialize keeps the server's answer to initialize for the next start, when it changed.
func (b *bridge) cacheInitialize(answer []byte) {
	path := b.cachePath()
	if path == "" {
		return
	}
	var r struct {
		Result json.RawMessage `json:"result"`
	}
	if json.Unmarshal(answer, &r) != nil || len(r.Result) == 0 {
		return
	}
	var compact bytes.Buffer
	if json.Compact(&compact, r.Result) != nil {
		return
	}
	if old, err := os.ReadFile(path); err == nil {
		var c cachedInit
		if json.Unmarshal(old, &c) == nil && c.forURL(b.opts.Server.URL) && bytes.Equal(c.Result, compact.Bytes()) {
			return
		}
	}
	data, err := json.Marshal(cachedInit{URL: redact.URL(b.opts.Server.URL), URLSum: urlSum(b.opts.Server.URL), Saved: time.Now().UTC(), Result: compact.Bytes()})
	if err != nil {
		return
	}
	if err := os.MkdirAll(b.opts.CacheDir, 0o700); err != nil {
		b.log.Debug("caching the initialize result", "err", err)
		return
	}
	if err := config.WriteFileAtomic(path, append(data, '\n'), 0o600); err != nil {
		b.log.Debug("caching the initialize result", "err", err)
	}
}
