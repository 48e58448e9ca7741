package store

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"unicode/utf8"
)

// MaxFileBytes is the largest tenant file a store keeps: one file must fit
// in one Firestore document. The embedded store enforces it too, so that
// what runs locally can be pushed.
const MaxFileBytes = 1000 * 1000

// CheckTenant refuses a tenant no store could keep (keys Firestore would
// refuse, unclean paths, oversized files) and returns the scenario codes
// deduplicated and sorted.
func CheckTenant(t TenantFiles, codes []string, customers map[string]string) ([]string, error) {
	if err := CheckKey("tenant id", t.ID); err != nil {
		return nil, err
	}
	for p, b := range t.Files {
		if !fs.ValidPath(p) || p == "." {
			return nil, fmt.Errorf("file path %q is not a clean relative slash-separated path", p)
		}
		if len(b) > MaxFileBytes {
			return nil, fmt.Errorf("file %q has %d bytes, over the %d a Firestore document holds", p, len(b), MaxFileBytes)
		}
	}
	for _, c := range codes {
		if err := CheckKey("scenario code", c); err != nil {
			return nil, err
		}
	}
	for phone := range customers {
		if err := CheckKey("customer phone", phone); err != nil {
			return nil, err
		}
	}
	codes = slices.Clone(codes)
	slices.Sort(codes)
	return slices.Compact(codes), nil
}

// CheckKey applies Firestore's document id rules.
func CheckKey(what, k string) error {
	if k == "" || len(k) > 1500 || !utf8.ValidString(k) || strings.Contains(k, "/") || k == "." || k == ".." ||
		(len(k) >= 4 && strings.HasPrefix(k, "__") && strings.HasSuffix(k, "__")) {
		return fmt.Errorf("%s %q is not a valid key (non-empty UTF-8, no '/', not '.', '..' or __x__)", what, k)
	}
	return nil
}
