// Package input holds the checks of the input as a whole, rather than of
// any one object: the things that make cross-object analysis ambiguous.
package input

import "github.com/kubeguard/kubeguard/internal/check"

// Category is the category of every check of this package.
const Category = "Input"

// Checks are this package's checks, in registration order.
var Checks = []check.Check{
	DuplicateObject,
	DuplicateField,
}
