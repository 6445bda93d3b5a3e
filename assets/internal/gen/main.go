// Command gen draws MCP Broker's icons (see package iconart) and writes them as PNG files into
// the current folder. `go generate` in assets/ runs it; commit its output.
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/mcp-broker/mcp-broker/assets/internal/iconart"
)

func main() {
	for _, icon := range iconart.All {
		var buf bytes.Buffer
		if err := iconart.Encode(&buf, icon.Kind, icon.Size); err != nil {
			fmt.Fprintf(os.Stderr, "gen: %s: %v\n", icon.Kind, err)
			os.Exit(1)
		}
		if err := os.WriteFile(icon.Kind.File(), buf.Bytes(), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "gen: %v\n", err)
			os.Exit(1)
		}
	}
}
