package main

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// colors of the clients in the chart.
var colors = map[kind]string{direct: "#8c8c8c", bridgeK: "#2f6fdf", bridgeWatched: "#7fa6ee", bridgeWindow: "#b9cdf5", mcpRemote: "#e07b39"}

// chartPanels are the figures the chart shows, one panel each: the ones the targets are about.
func chartPanels() []figure {
	all := figureRows([]int{32 << 20})
	pick := map[string]string{
		"cold start to initialize answer": "cold start (ms)",
		"tools/call p50, 1 in flight":     "tools/call p50, 1 in flight (ms)",
		"throughput, 10 in flight":        "throughput, 10 in flight (calls/s)",
		"32 MiB result: time":             "32 MiB result: time (ms)",
		"32 MiB result: relay peak RSS":   "32 MiB result: peak RSS (MB)",
		"relay RSS, idle after 100 calls": "idle RSS after 100 calls (MB)",
	}
	var out []figure
	for _, f := range all {
		if title, ok := pick[f.name]; ok {
			f.name = title
			out = append(out, f)
		}
	}
	return out
}

// chart draws the panels as horizontal bar charts, two columns of three, each with a group of
// bars per transport: a small, self-contained SVG (no script, no external font or style).
func chart(res *results) string {
	const (
		panelW, panelH = 460, 176
		cols           = 2
		margin         = 20
		top            = 60
		labelW         = 110 // the transport names left of the bars
		barH, barGap   = 14, 3
		groupGap       = 16
	)
	panels := chartPanels()
	rows := (len(panels) + cols - 1) / cols
	width := cols*panelW + (cols+1)*margin
	height := top + rows*(panelH+margin) + margin
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&sb, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	title := "mcp-broker bridge vs direct vs mcp-remote (medians, 127.0.0.1)"
	if res.Quick {
		title += " — quick run"
	}
	fmt.Fprintf(&sb, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", margin, html.EscapeString(title))
	// Legend.
	x := margin
	for _, k := range kinds {
		fmt.Fprintf(&sb, `<rect x="%d" y="36" width="12" height="12" fill="%s"/><text x="%d" y="46">%s</text>`+"\n", x, colors[k], x+16, k)
		x += 110
	}
	for i, p := range panels {
		px := margin + (i%cols)*(panelW+margin)
		py := top + (i/cols)*(panelH+margin)
		fmt.Fprintf(&sb, `<g transform="translate(%d,%d)">`+"\n", px, py)
		fmt.Fprintf(&sb, `<rect width="%d" height="%d" fill="none" stroke="#dddddd"/>`+"\n", panelW, panelH)
		// One scale per panel, up to its largest value; logarithmic when the values span more
		// than two orders of magnitude (mcp-remote's 32 MiB over legacy SSE would otherwise
		// flatten every other bar).
		peak, least := 0.0, math.Inf(1)
		for _, t := range transports {
			for _, k := range kinds {
				if v, ok := p.of(res, t, k); ok && v > 0 {
					peak, least = max(peak, v), min(least, v)
				}
			}
		}
		logScale := peak > 100*least
		floor := least / 2 // the smallest bar keeps a visible length on a log scale
		note := "lower is better"
		if p.higherIsBetter {
			note = "higher is better"
		}
		if logScale {
			note += ", log scale"
		}
		fmt.Fprintf(&sb, `<text x="8" y="18" font-weight="bold">%s</text><text x="%d" y="18" text-anchor="end" fill="#888888">%s</text>`+"\n",
			html.EscapeString(p.name), panelW-8, note)
		barMax := float64(panelW - labelW - 70)
		y := 34
		for _, t := range transports {
			if res.Figures[t] == nil {
				continue
			}
			groupH := len(kinds)*(barH+barGap) - barGap
			fmt.Fprintf(&sb, `<text x="8" y="%d">%s</text>`+"\n", y+groupH/2+4, html.EscapeString(t.title()))
			for _, k := range kinds {
				v, ok := p.of(res, t, k)
				label := "–"
				w := 0.0
				if ok {
					label = p.format(v, true)
					switch {
					case logScale && v > 0:
						w = math.Log(v/floor) / math.Log(peak/floor) * barMax
					case peak > 0:
						w = v / peak * barMax
					}
				}
				fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%s" height="%d" fill="%s"/>`, labelW, y, strconv.FormatFloat(w, 'f', 1, 64), barH, colors[k])
				fmt.Fprintf(&sb, `<text x="%s" y="%d">%s</text>`+"\n", strconv.FormatFloat(float64(labelW)+w+4, 'f', 1, 64), y+barH-3, label)
				y += barH + barGap
			}
			y += groupGap
		}
		sb.WriteString("</g>\n")
	}
	sb.WriteString("</svg>\n")
	return sb.String()
}
