package assets

import (
	"bytes"
	"image/png"
	"io/fs"
	"testing"

	"github.com/mcp-broker/mcp-broker/assets/internal/iconart"
)

// TestIconsUpToDate fails when the committed PNGs no longer match their drawing code: run
// `go generate ./assets` after changing assets/internal/iconart.
func TestIconsUpToDate(t *testing.T) {
	for _, icon := range iconart.All {
		t.Run(string(icon.Kind), func(t *testing.T) {
			got, err := fs.ReadFile(Icons, icon.Kind.File())
			if err != nil {
				t.Fatalf("%s is not embedded: %v", icon.Kind.File(), err)
			}
			img, err := png.Decode(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("%s is not a PNG: %v", icon.Kind.File(), err)
			}
			if b := img.Bounds(); b.Dx() != icon.Size || b.Dy() != icon.Size {
				t.Errorf("%s is %v, want %d×%d", icon.Kind.File(), b.Size(), icon.Size, icon.Size)
			}
			var want bytes.Buffer
			if err := iconart.Encode(&want, icon.Kind, icon.Size); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Errorf("%s differs from what assets/internal/iconart draws: run `go generate ./assets`", icon.Kind.File())
			}
		})
	}
}
