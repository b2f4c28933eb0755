package cli

import (
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"
)

// termWidth is the width text tables must fit in: $COLUMNS when set, else
// the width of w when it is a terminal, else 0 for no limit (a pipe or a
// file keeps every cell whole).
func termWidth(w io.Writer) int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if n, _, err := term.GetSize(int(f.Fd())); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// table is rows of cells printed in aligned columns two spaces apart.
type table struct {
	rows [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// widths are the columns' widths in runes.
func (t *table) widths() []int {
	var ws []int
	for _, r := range t.rows {
		for i, c := range r {
			if i == len(ws) {
				ws = append(ws, 0)
			}
			ws[i] = max(ws[i], utf8.RuneCountInString(c))
		}
	}
	return ws
}

// fits says whether the table fits in width (0: any width).
func (t *table) fits(width int) bool {
	if width <= 0 {
		return true
	}
	total := 0
	for _, w := range t.widths() {
		total += w + 2
	}
	return total-2 <= width
}

// write prints the table. When it is wider than width (and width is not
// 0), the cells of the flex columns, in the order given, are cut with an
// ellipsis to make it fit, each no narrower than 10 runes.
func (t *table) write(w io.Writer, width int, flex ...int) error {
	ws := t.widths()
	if !t.fits(width) {
		total := -2
		for _, n := range ws {
			total += n + 2
		}
		for _, i := range flex {
			if total <= width || i >= len(ws) {
				break
			}
			cut := min(total-width, ws[i]-10)
			if cut > 0 {
				ws[i] -= cut
				total -= cut
			}
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		b.Reset()
		for i, c := range r {
			n := utf8.RuneCountInString(c)
			if n > ws[i] {
				c = string([]rune(c)[:ws[i]-1]) + "…"
				n = ws[i]
			}
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", ws[i]-n+2))
			}
		}
		if _, err := io.WriteString(w, strings.TrimRight(b.String(), " ")+"\n"); err != nil {
			return err
		}
	}
	return nil
}
