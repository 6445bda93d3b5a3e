package toolpolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// Seen is the file a bridge keeps of the last tools/list answer of its server: what the tools
// are, whatever the settings hide, so that `mcp-broker tools` can show the hidden ones too.
// It holds what the server tells every client about its tools, and nothing else: no URL, no
// header, no credential.
type Seen struct {
	Server string    `json:"server"`
	Saved  time.Time `json:"saved"`
	Tools  []Tool    `json:"tools"`
}

// SameTools reports whether s and o describe the same tools (Saved aside): the bridge writes
// the file only when they changed.
func (s Seen) SameTools(o Seen) bool {
	return s.Server == o.Server && slices.EqualFunc(s.Tools, o.Tools, func(a, b Tool) bool {
		return a.Name == b.Name && a.Title == b.Title && a.Description == b.Description && a.ReadOnly == b.ReadOnly &&
			string(a.Annotations) == string(b.Annotations) && a.SchemaBytes == b.SchemaBytes && a.Bytes == b.Bytes
	})
}

// Dir is the folder of the Seen files under the user's cache folder (os.UserCacheDir).
func Dir(userCache string) string { return filepath.Join(userCache, "mcp-broker", "tools") }

// path is the file of server's tools in dir. Server names are file-name safe
// (config.ValidateName).
func path(dir, server string) string { return filepath.Join(dir, server+".json") }

// Path is the file of server's tools in dir, for a reader that checks whether it changed
// before it loads it again (the tray polls it).
func Path(dir, server string) string { return path(dir, server) }

// Save writes s to its file in dir, which it makes private to the user (0700, the file 0600).
func Save(dir string, s Seen) error {
	if err := config.ValidateName(s.Server); err != nil {
		return fmt.Errorf("saving the tools seen: %w", err)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("saving the tools seen: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("saving the tools seen: %w", err)
	}
	if err := config.WriteFileAtomic(path(dir, s.Server), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving the tools seen: %w", err)
	}
	return nil
}

// ErrNotSeen says no bridge has listed the server's tools yet.
var ErrNotSeen = errors.New("no bridge has listed this server's tools yet")

// Load reads the tools of server last seen in dir; ErrNotSeen when there is no file.
func Load(dir, server string) (Seen, error) {
	if err := config.ValidateName(server); err != nil {
		return Seen{}, fmt.Errorf("reading the tools seen: %w", err)
	}
	data, err := os.ReadFile(path(dir, server))
	if errors.Is(err, os.ErrNotExist) {
		return Seen{}, ErrNotSeen
	}
	if err != nil {
		return Seen{}, fmt.Errorf("reading the tools seen: %w", err)
	}
	var s Seen
	if err := json.Unmarshal(data, &s); err != nil {
		return Seen{}, fmt.Errorf("reading the tools seen (%s): %w", path(dir, server), err)
	}
	return s, nil
}
