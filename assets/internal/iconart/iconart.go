// Package iconart draws MCP Broker's icons: the app icon and one tray icon per state. The
// PNG files in assets/ are its output (go generate in assets/ runs assets/internal/gen), and a
// test checks that they still match, so the drawing code is the source and the PNGs are never
// edited by hand.
//
// The tray needs PNG: on Linux, fyne.io/systray decodes the icon with the image package and
// only PNG is registered there, so an SVG resource would show as nothing. The shapes are drawn
// with golang.org/x/image/vector (anti-aliased, deterministic: the same bytes on every run).
//
// The design is a white bridge (an arch over a deck) on a rounded slate square: readable at the
// 16 to 24 px of a panel, on light and dark panels alike. The states differ by shape as well as
// colour, for people who do not tell amber from red: sign-in needed adds a keyhole badge, error
// an exclamation badge, and "nothing configured" is the outline only.
package iconart

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/vector"
)

// Kind names an icon.
type Kind string

// The icons. File is the PNG name in assets/.
const (
	App    Kind = "icon"
	OK     Kind = "tray-ok"
	SignIn Kind = "tray-signin"
	Error  Kind = "tray-error"
	Empty  Kind = "tray-empty"
)

// All lists every icon with its size in pixels: the app icon at 512 (what `fyne package`
// and desktop files want), the tray icons at 64 (the SNI host scales down; 64 stays sharp on
// HiDPI panels).
var All = []struct {
	Kind Kind
	Size int
}{
	{App, 512}, {OK, 64}, {SignIn, 64}, {Error, 64}, {Empty, 64},
}

// File is the icon's file name in assets/.
func (k Kind) File() string { return string(k) + ".png" }

var (
	slate = color.NRGBA{0x2f, 0x3e, 0x4c, 0xff}
	white = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	amber = color.NRGBA{0xf0, 0xa2, 0x02, 0xff}
	red   = color.NRGBA{0xd9, 0x30, 0x25, 0xff}
	// grey is for the outline-only icon: visible on light and dark panels alike.
	grey = color.NRGBA{0x8c, 0x99, 0xa6, 0xff}
)

// Draw returns the icon at size×size pixels. Coordinates below are on a 64-unit grid scaled to
// size.
func Draw(k Kind, size int) *image.NRGBA {
	c := &canvas{img: image.NewNRGBA(image.Rect(0, 0, size, size)), s: float32(size) / 64}
	badge := k == SignIn || k == Error
	if k == Empty {
		// Outline only: the square's ring and the bridge in grey. Reads as "inactive".
		c.fill(grey, func(p *path) { p.roundRect(4, 4, 60, 60, 14); p.roundRectRev(8.5, 8.5, 55.5, 55.5, 10) })
		c.fill(grey, bridge)
		return c.img
	}
	c.fill(slate, func(p *path) { p.roundRect(4, 4, 60, 60, 14) })
	c.fill(white, bridge)
	if !badge {
		return c.img
	}
	// A clear ring around the badge separates it from the square on any panel colour.
	c.clear(func(p *path) { p.circle(49, 49, 15.5) })
	col := amber
	if k == Error {
		col = red
	}
	c.fill(col, func(p *path) { p.circle(49, 49, 12.5) })
	if k == SignIn {
		// A keyhole: a round head and a tapering foot.
		c.fill(white, func(p *path) {
			p.circle(49, 45.5, 4)
			p.poly(47.3, 47, 50.7, 47, 52, 56, 46, 56)
		})
	} else {
		// An exclamation mark.
		c.fill(white, func(p *path) {
			p.roundRect(47.2, 40, 50.8, 51.5, 1.8)
			p.circle(49, 55.2, 2)
		})
	}
	return c.img
}

// Encode writes the icon as a PNG, best compression: the same bytes on every run.
func Encode(w io.Writer, k Kind, size int) error {
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	return enc.Encode(w, Draw(k, size))
}

// bridge is the glyph: a deck on a single stone arch, the way a child draws a bridge.
func bridge(p *path) {
	// The deck, overhanging the arch on both sides.
	p.roundRect(11, 17, 53, 24, 2)
	// The body under the deck, with the arch cut out of it: piers from x 15 to 21 and 43 to 49,
	// the arch a half circle of radius 11 centred on (32, 47).
	const cx, cy, r = 32, 47, 11
	p.moveTo(15, 23)
	p.lineTo(49, 23)
	p.lineTo(49, 47)
	p.lineTo(cx+r, cy)
	const steps = 40
	for i := 1; i < steps; i++ {
		a := -math.Pi * float64(i) / steps
		p.lineTo(cx+r*math.Cos(a), cy+r*math.Sin(a))
	}
	p.lineTo(cx-r, cy)
	p.lineTo(15, 47)
	p.close()
}

// canvas paints filled paths onto an image.
type canvas struct {
	img *image.NRGBA
	s   float32
}

// fill paints the paths built by build in col (non-zero winding: separate sub-paths add up,
// a reversed inner sub-path cuts a hole only where it is inside an outer one).
func (c *canvas) fill(col color.NRGBA, build func(*path)) {
	mask := c.mask(build)
	draw.DrawMask(c.img, c.img.Bounds(), image.NewUniform(col), image.Point{}, mask, image.Point{}, draw.Over)
}

// clear makes the paths' area transparent, anti-aliased at the edge.
func (c *canvas) clear(build func(*path)) {
	mask := c.mask(build)
	b := c.img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			m := mask.AlphaAt(x, y).A
			if m == 0 {
				continue
			}
			px := c.img.NRGBAAt(x, y)
			px.A = uint8(uint32(px.A) * uint32(255-m) / 255)
			c.img.SetNRGBA(x, y, px)
		}
	}
}

func (c *canvas) mask(build func(*path)) *image.Alpha {
	b := c.img.Bounds()
	r := vector.NewRasterizer(b.Dx(), b.Dy())
	build(&path{r: r, s: c.s})
	mask := image.NewAlpha(b)
	r.Draw(mask, b, image.Opaque, image.Point{})
	return mask
}

// path adds sub-paths, in 64-unit coordinates, to a rasterizer.
type path struct {
	r *vector.Rasterizer
	s float32
}

func (p *path) moveTo(x, y float64) { p.r.MoveTo(float32(x)*p.s, float32(y)*p.s) }
func (p *path) lineTo(x, y float64) { p.r.LineTo(float32(x)*p.s, float32(y)*p.s) }
func (p *path) close()              { p.r.ClosePath() }

// poly adds a closed polygon given as x, y pairs.
func (p *path) poly(xy ...float64) {
	p.moveTo(xy[0], xy[1])
	for i := 2; i+1 < len(xy); i += 2 {
		p.lineTo(xy[i], xy[i+1])
	}
	p.close()
}

// circle adds a circle, clockwise on screen.
func (p *path) circle(cx, cy, r float64) {
	const steps = 64
	for i := 0; i <= steps; i++ {
		a := 2 * math.Pi * float64(i) / steps
		x, y := cx+r*math.Cos(a), cy+r*math.Sin(a)
		if i == 0 {
			p.moveTo(x, y)
		} else {
			p.lineTo(x, y)
		}
	}
	p.close()
}

// roundRect adds a rectangle with rounded corners, clockwise on screen.
func (p *path) roundRect(x0, y0, x1, y1, r float64) { p.corners(x0, y0, x1, y1, r, false) }

// roundRectRev adds the same rectangle counter-clockwise, which cuts a hole in a clockwise one.
func (p *path) roundRectRev(x0, y0, x1, y1, r float64) { p.corners(x0, y0, x1, y1, r, true) }

func (p *path) corners(x0, y0, x1, y1, r float64, reverse bool) {
	type pt struct{ x, y float64 }
	var pts []pt
	// Corner centres, clockwise on screen from the top left, with the angle each arc starts at.
	centres := []struct{ x, y, a float64 }{
		{x0 + r, y0 + r, math.Pi}, {x1 - r, y0 + r, 1.5 * math.Pi}, {x1 - r, y1 - r, 0}, {x0 + r, y1 - r, 0.5 * math.Pi},
	}
	const steps = 12
	for _, c := range centres {
		for i := 0; i <= steps; i++ {
			a := c.a + 0.5*math.Pi*float64(i)/steps
			pts = append(pts, pt{c.x + r*math.Cos(a), c.y + r*math.Sin(a)})
		}
	}
	if reverse {
		for i, j := 0, len(pts)-1; i < j; i, j = i+1, j-1 {
			pts[i], pts[j] = pts[j], pts[i]
		}
	}
	p.moveTo(pts[0].x, pts[0].y)
	for _, q := range pts[1:] {
		p.lineTo(q.x, q.y)
	}
	p.close()
}
