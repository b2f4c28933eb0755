package object

import "time"

// timestampFormats are the YAML 1.1 timestamp forms the decoder kubectl uses
// recognises; a plain scalar matching one stays a string in JSON rather than
// becoming a number.
var timestampFormats = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

func parseTimestamp(s string) bool {
	for _, f := range timestampFormats {
		if _, err := time.Parse(f, s); err == nil {
			return true
		}
	}
	return false
}
