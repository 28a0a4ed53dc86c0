package assemble

import (
	"slices"
	"strings"
)

// Address matching. A person record without a UPRN (schools, libraries and
// social care hold addresses, not UPRNs) is placed by matching its address
// to the gazetteer (properties.csv): both are reduced to a key that ignores
// case, punctuation, the town, the word "Flat", the way a flat is written
// ("Flat 3, 12 X Road", "3/12 X Road", "12C X Road" for flat C) and common
// street-word abbreviations. A key with the postcode is tried first, then
// the key alone; a key that fits more than one property matches none.

// streetWords expands the common abbreviations of address words.
func streetWord(w string) string {
	switch w {
	case "rd":
		return "road"
	case "st":
		return "street"
	case "ave", "av":
		return "avenue"
	case "ln":
		return "lane"
	case "cres", "cresc":
		return "crescent"
	case "gr", "grv":
		return "grove"
	case "sq":
		return "square"
	case "est":
		return "estate"
	case "pl":
		return "place"
	case "circ":
		return "circus"
	case "cl":
		return "close"
	case "dr":
		return "drive"
	case "gdns":
		return "gardens"
	case "ct":
		return "court"
	case "ter", "terr":
		return "terrace"
	case "hse":
		return "house"
	case "mws":
		return "mews"
	}
	return w
}

// addressKey returns the matching key of an address: its words, lower
// case, abbreviations expanded, "flat" and a trailing "london" dropped, a
// number run into a letter ("12c") split, sorted. "" when no word is left.
func addressKey(a string) string {
	var words []string
	for f := range strings.FieldsFuncSeq(strings.ToLower(a), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		// "12c": a building number with a flat letter.
		if n := len(f); n >= 2 && f[n-1] >= 'a' && f[n-1] <= 'z' && f[0] >= '0' && f[0] <= '9' && f[n-2] >= '0' && f[n-2] <= '9' {
			words = append(words, f[:n-1], f[n-1:])
			continue
		}
		words = append(words, streetWord(f))
	}
	if n := len(words); n > 0 && words[n-1] == "london" {
		words = words[:n-1]
	}
	words = slices.DeleteFunc(words, func(w string) bool { return w == "flat" })
	if len(words) == 0 {
		return ""
	}
	slices.Sort(words)
	return strings.Join(words, " ")
}

// postcodeKey returns a postcode upper case without spaces.
func postcodeKey(p string) string {
	return strings.ToUpper(strings.ReplaceAll(p, " ", ""))
}

// gazetteer matches addresses to UPRNs. It is built once and read
// concurrently.
type gazetteer struct {
	full map[string]int64 // address key + "|" + postcode key; -1 when ambiguous
	addr map[string]int64 // address key; -1 when ambiguous
}

func newGazetteer() *gazetteer {
	return &gazetteer{full: map[string]int64{}, addr: map[string]int64{}}
}

func (g *gazetteer) add(address, postcode string, uprn int64) {
	k := addressKey(address)
	if k == "" {
		return
	}
	put := func(m map[string]int64, key string) {
		if u, ok := m[key]; ok && u != uprn {
			m[key] = -1
			return
		}
		m[key] = uprn
	}
	put(g.full, k+"|"+postcodeKey(postcode))
	put(g.addr, k)
}

// match returns the UPRN of an address, or 0.
func (g *gazetteer) match(address, postcode string) int64 {
	k := addressKey(address)
	if k == "" {
		return 0
	}
	if postcode != "" {
		if u, ok := g.full[k+"|"+postcodeKey(postcode)]; ok {
			return max(u, 0)
		}
	}
	return max(g.addr[k], 0)
}
