package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH   = 960, 420
	marginL, marginR = 72, 24
	marginT, marginB = 48, 56
	plotW            = chartW - marginL - marginR
	plotH            = chartH - marginT - marginB
	colorAuto        = "#1f77b4"
	colorOnDemand    = "#ff7f0e"
)

// niceCeil returns the smallest 1, 2 or 5 × 10^k that is ≥ v (and ≥ 1).
func niceCeil(v int) int {
	if v <= 1 {
		return 1
	}
	p := int(math.Pow(10, math.Floor(math.Log10(float64(v)))))
	for _, m := range []int{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// writeSVG draws the monthly rotations as stacked bars (automatic below,
// on demand above) with axes, year ticks and a legend.
func (t *tally) writeSVG(out io.Writer) error {
	w := bufio.NewWriter(out)
	peak := 0
	for m := 0; m < t.months; m++ {
		peak = max(peak, t.auto[m]+t.onDemand[m])
	}
	top := niceCeil(peak)
	y := func(v int) float64 { return marginT + plotH - float64(v)/float64(top)*plotH }
	barW := float64(plotW) / float64(t.months)

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartW, chartH, chartW, chartH)
	fmt.Fprintf(w, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartW, chartH)
	fmt.Fprintf(w, `<text x="%d" y="24" font-size="16">Key rotations per month, %s to %s</text>`+"\n",
		marginL, t.start.Format("Jan 2006"), t.start.AddDate(0, t.months-1, 0).Format("Jan 2006"))

	// Horizontal grid and y labels: five steps.
	for i := 0; i <= 5; i++ {
		v := top * i / 5
		yy := y(v)
		fmt.Fprintf(w, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", marginL, yy, marginL+plotW, yy)
		fmt.Fprintf(w, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%d</text>`+"\n", marginL-6, yy, v)
	}

	// Bars.
	fmt.Fprintf(w, `<g shape-rendering="crispEdges">`+"\n")
	for m := 0; m < t.months; m++ {
		x := marginL + float64(m)*barW
		bw := math.Max(barW*0.85, 0.5)
		if a := t.auto[m]; a > 0 {
			fmt.Fprintf(w, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"/>`+"\n", x, y(a), bw, y(0)-y(a), colorAuto)
		}
		if d := t.onDemand[m]; d > 0 {
			a := t.auto[m]
			fmt.Fprintf(w, `<rect x="%.2f" y="%.2f" width="%.2f" height="%.2f" fill="%s"/>`+"\n", x, y(a+d), bw, y(a)-y(a+d), colorOnDemand)
		}
	}
	fmt.Fprintf(w, "</g>\n")

	// Axes and x ticks at each January (every few years when crowded).
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", marginL, marginT+plotH, marginL+plotW, marginT+plotH)
	fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", marginL, marginT, marginL, marginT+plotH)
	every := max(1, t.months/12/12) // at most about twelve labels
	for m := 0; m < t.months; m++ {
		at := t.start.AddDate(0, m, 0)
		if at.Month() != 1 && m != 0 || (at.Year()-t.start.Year())%every != 0 {
			continue
		}
		x := marginL + float64(m)*barW
		fmt.Fprintf(w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>`+"\n", x, marginT+plotH, x, marginT+plotH+5)
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", x, marginT+plotH+20, at.Year())
	}
	fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle">simulated time</text>`+"\n", marginL+plotW/2, chartH-10)
	fmt.Fprintf(w, `<text transform="translate(16 %d) rotate(-90)" text-anchor="middle">rotations</text>`+"\n", marginT+plotH/2)

	// Legend.
	lx := marginL + plotW - 250
	fmt.Fprintf(w, `<rect x="%d" y="14" width="12" height="12" fill="%s"/><text x="%d" y="24">AUTOMATIC</text>`+"\n", lx, colorAuto, lx+18)
	fmt.Fprintf(w, `<rect x="%d" y="14" width="12" height="12" fill="%s"/><text x="%d" y="24">ON_DEMAND</text>`+"\n", lx+120, colorOnDemand, lx+138)
	fmt.Fprintf(w, "</svg>\n")
	return w.Flush()
}
