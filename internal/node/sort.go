package node

import (
	"io/fs"
	"slices"
	"strings"
)

func sortEntries(es []fs.DirEntry) {
	slices.SortFunc(es, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
}

func sortStrings(s []string) { slices.Sort(s) }
