package secrets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcp-broker/mcp-broker/broker/config"
)

// FileStore keeps each secret UNENCRYPTED in its own 0600 file in a private
// 0700 folder. It is for machines without a keychain (a headless server, a
// container) and is used only when the user opts in: anything running as
// the user, and anyone who reads their backups, can read the secrets.
type FileStore struct {
	dir string
}

// NewFileStore returns a FileStore in dir, creating the folder 0700 if it is
// missing. It refuses a folder that other users can read or enter (or, on
// Unix, that another user owns), rather than put secrets in it.
func NewFileStore(dir string) (*FileStore, error) {
	if dir == "" {
		return nil, errors.New("opening file secret store: no folder given")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("opening file secret store: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating secret store folder: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("opening file secret store: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("secret store %s is not a folder", dir)
	}
	if err := checkPrivateDir(dir, fi); err != nil {
		return nil, err
	}
	return &FileStore{dir: dir}, nil
}

// Describe implements Store. It is deliberately loud: status output and
// warnings print it as is.
func (s *FileStore) Describe() string {
	return "UNENCRYPTED file store at " + s.dir
}

// Get implements Store.
func (s *FileStore) Get(ctx context.Context, key string) (string, error) {
	path, err := s.path(key)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading %q from the file store: %w", key, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("reading %q from the file store: %w", key, err)
	}
	return string(data), nil
}

// Set implements Store. The write is atomic: a reader sees the old or the
// new secret, never a mix, and a failed write keeps the old one.
func (s *FileStore) Set(ctx context.Context, key, value string) error {
	path, err := s.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Recreate the folder if someone removed it since NewFileStore.
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("storing %q in the file store: %w", key, err)
	}
	if err := config.WriteFileAtomic(path, []byte(value), 0o600); err != nil {
		return fmt.Errorf("storing %q in the file store: %w", key, err)
	}
	return nil
}

// Delete implements Store.
func (s *FileStore) Delete(ctx context.Context, key string) error {
	path, err := s.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting %q from the file store: %w", key, err)
	}
	return nil
}

func (s *FileStore) path(key string) (string, error) {
	if err := validateKey(key); err != nil {
		return "", err
	}
	return filepath.Join(s.dir, fileName(key)), nil
}

// maxStem bounds the escaped part of a file name, well under the 255-byte
// limit of common file systems even with the hash and suffix added.
const maxStem = 180

// fileName maps a key to a file name that is safe everywhere and distinct
// for distinct keys, also on case-insensitive file systems:
//
//   - a-z, 0-9, '-' and '_' stay; every other byte (upper case letters
//     included) becomes %XX with upper-case hex, so no two keys differ only
//     in case once escaped, and no name contains a path separator, starts
//     with '.' (temp files do) or ends with '.' or ' ' (Windows drops those);
//   - a stem that is a Windows device name (con, nul, com1, ...) has its first
//     byte escaped too;
//   - a stem longer than maxStem is cut and followed by '~' and a SHA-256 of
//     the key ('~' never occurs in escaped text, so cut names cannot collide
//     with whole ones).
//
// The ".secret" suffix marks the files for anyone looking in the folder.
func fileName(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	stem := b.String()
	if isWindowsDeviceName(stem) {
		stem = fmt.Sprintf("%%%02X", stem[0]) + stem[1:]
	}
	if len(stem) > maxStem {
		cut := maxStem
		// Do not split a %XX escape.
		if i := strings.LastIndexByte(stem[:cut], '%'); i >= cut-2 {
			cut = i
		}
		sum := sha256.Sum256([]byte(key))
		stem = stem[:cut] + "~" + hex.EncodeToString(sum[:16])
	}
	return stem + ".secret"
}

// isWindowsDeviceName reports whether stem is a name Windows reserves for a
// device in every folder. Stems here are already lower case.
func isWindowsDeviceName(stem string) bool {
	switch stem {
	case "con", "prn", "aux", "nul":
		return true
	}
	if len(stem) == 4 && (strings.HasPrefix(stem, "com") || strings.HasPrefix(stem, "lpt")) {
		return stem[3] >= '0' && stem[3] <= '9'
	}
	return false
}
