package link

import (
	"slices"
	"strings"

	"caserisk/features/contract"
)

// Compared fields, in pattern order. The address, postcode and UPRN are one
// comparison ("address"): they say the same thing (where the person lives),
// and scoring them as three independent fields would count one shared
// address three times — which is what links members of one household.
const (
	FieldGiven = iota
	FieldFamily
	FieldDOB
	FieldAddress
	FieldNI
	FieldSex
	NumFields
)

// FieldNames are the compared fields' names, indexed by Field*.
var FieldNames = [NumFields]string{"given_name", "family_name", "date_of_birth", "address", "ni_number", "sex"}

// LevelNames are each field's comparison levels, from the strongest
// agreement down; level 0 is always "null" (a value missing on either
// side), which carries no evidence. The address levels: same UPRN; same
// normalised address; address token sets (Jaccard) ≥ the first cut-off;
// same postcode; tokens ≥ the second cut-off; same postcode sector; else.
var LevelNames = [NumFields][]string{
	FieldGiven:   {"null", "exact", "swapped_with_family", "nickname_or_variant", "jw_high", "jw_low", "initial", "else"},
	FieldFamily:  {"null", "exact", "swapped_with_given", "jw_high", "jw_low", "else"},
	FieldDOB:     {"null", "exact", "day_month_swap", "one_digit", "same_year", "else"},
	FieldAddress: {"null", "uprn", "address_exact", "address_close", "postcode", "address_partial", "sector", "else"},
	FieldNI:      {"null", "exact", "one_char", "else"},
	FieldSex:     {"null", "agree", "disagree"},
}

// Level values used by the guards and the code.
const (
	lvNull  = 0
	lvExact = 1

	givenSwap     = 2
	givenNickname = 3
	givenJW1      = 4
	givenJW2      = 5
	givenInitial  = 6
	givenElse     = 7

	familySwap = 2
	familyJW1  = 3
	familyJW2  = 4
	familyElse = 5

	dobSwap     = 2
	dobOneDigit = 3
	dobSameYear = 4
	dobElse     = 5

	addrUPRN     = 1
	addrExact    = 2
	addrClose    = 3
	addrPostcode = 4
	addrPartial  = 5
	addrSector   = 6
	addrElse     = 7

	niOneChar = 2
	niElse    = 3

	sexDisagree = 2
)

// Pattern packs one level per field, four bits each.
type Pattern uint32

// Level returns field f's level.
func (p Pattern) Level(f int) int { return int(p>>(4*f)) & 0xf }

func (p Pattern) with(f, lv int) Pattern { return p | Pattern(lv)<<(4*f) }

// node is one distinct set of normalised details: the records that share
// them are compared once.
type node struct {
	given, family, given1 string // given1: first word of given
	pc, sector            string
	addr                  string
	ni                    string
	addrToks              []uint32 // sorted distinct token hashes
	nick, nickFam         []uint16 // nickname groups of given1 and of family
	uprn                  int64
	dob                   contract.Day
	y, m, d               int
	sex                   byte
	sxGiven, sxFamily     uint32
}

func makeNode(r *Record, nk nicknames) node {
	n := node{given: r.Given, family: r.Family, pc: r.Postcode, addr: r.Address, ni: r.NI,
		uprn: r.UPRN, dob: r.DOB, sex: r.Sex}
	n.given1 = n.given
	if i := strings.IndexByte(n.given, ' '); i > 0 {
		n.given1 = n.given[:i]
	}
	if len(n.pc) >= 5 {
		n.sector = n.pc[:len(n.pc)-2]
	}
	if n.dob != contract.NoDay {
		n.y, n.m, n.d = n.dob.Civil()
	}
	n.sxGiven, n.sxFamily = soundex(n.given), soundex(n.family)
	n.nick, n.nickFam = nk[n.given1], nk[n.family]
	if n.addr != "" {
		for _, t := range strings.Fields(n.addr) {
			n.addrToks = append(n.addrToks, uint32(fnv64(fnvOffset, t)))
		}
		slices.Sort(n.addrToks)
		n.addrToks = slices.Compact(n.addrToks)
	}
	return n
}

// thresholds of the string comparisons.
type thresholds struct {
	nameJW1, nameJW2   float32
	addrTok1, addrTok2 float64
}

func compareNodes(a, b *node, th *thresholds) Pattern {
	var p Pattern
	// Names, with a swap of given and family names.
	swapped := a.given != "" && a.family != "" && b.given != "" && b.family != "" &&
		a.given != b.given && a.family != b.family &&
		nameClose(a.given1, b.family, a.nick, b.nickFam, th) && nameClose(a.family, b.given1, a.nickFam, b.nick, th)
	switch {
	case a.given == "" || b.given == "":
	case a.given == b.given:
		p = p.with(FieldGiven, lvExact)
	case swapped:
		p = p.with(FieldGiven, givenSwap)
	default:
		p = p.with(FieldGiven, compareGiven(a, b, th))
	}
	switch {
	case a.family == "" || b.family == "":
	case a.family == b.family:
		p = p.with(FieldFamily, lvExact)
	case swapped:
		p = p.with(FieldFamily, familySwap)
	default:
		jw := jaroWinkler(a.family, b.family)
		switch {
		case jw >= th.nameJW1 || sameLastWord(a.family, b.family):
			p = p.with(FieldFamily, familyJW1)
		case jw >= th.nameJW2:
			p = p.with(FieldFamily, familyJW2)
		default:
			p = p.with(FieldFamily, familyElse)
		}
	}
	p = p.with(FieldDOB, compareDOB(a, b))
	p = p.with(FieldAddress, compareAddress(a, b, th))
	switch {
	case a.ni == "" || b.ni == "":
	case a.ni == b.ni:
		p = p.with(FieldNI, lvExact)
	case oneEdit(a.ni, b.ni):
		p = p.with(FieldNI, niOneChar)
	default:
		p = p.with(FieldNI, niElse)
	}
	switch {
	case a.sex == 0 || b.sex == 0:
	case a.sex == b.sex:
		p = p.with(FieldSex, lvExact)
	default:
		p = p.with(FieldSex, sexDisagree)
	}
	return p
}

func compareGiven(a, b *node, th *thresholds) int {
	if a.given1 == b.given1 || sharesGroup(a.nick, b.nick) {
		return givenNickname // a variant: same first name, or a known short form
	}
	jw := jaroWinkler(a.given, b.given)
	if jw >= th.nameJW1 {
		return givenJW1
	}
	if j1 := jaroWinkler(a.given1, b.given1); j1 > jw {
		jw = j1
	}
	if jw >= th.nameJW1 {
		return givenJW1
	}
	if jw >= th.nameJW2 {
		return givenJW2
	}
	if (len(a.given1) == 1 || len(b.given1) == 1) && a.given1[0] == b.given1[0] {
		return givenInitial
	}
	return givenElse
}

func compareDOB(a, b *node) int {
	switch {
	case a.dob == contract.NoDay || b.dob == contract.NoDay:
		return lvNull
	case a.dob == b.dob:
		return lvExact
	case a.y == b.y && a.m == b.d && a.d == b.m:
		return dobSwap
	case digitDiff(a.y, b.y, 4)+digitDiff(a.m, b.m, 2)+digitDiff(a.d, b.d, 2) == 1:
		return dobOneDigit
	case a.y == b.y:
		return dobSameYear
	}
	return dobElse
}

// digitDiff counts the decimal digits (of n places) in which x and y differ.
func digitDiff(x, y, n int) int {
	c := 0
	for ; n > 0; n-- {
		if x%10 != y%10 {
			c++
		}
		x, y = x/10, y/10
	}
	return c
}

// oneEdit reports whether equal-length a and b differ in one character or
// by one swap of adjacent characters.
func oneEdit(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	first := -1
	diffs := 0
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] {
			if diffs == 0 {
				first = i
			}
			diffs++
			if diffs > 2 {
				return false
			}
		}
	}
	if diffs == 1 {
		return true
	}
	return diffs == 2 && first+1 < len(a) && a[first] == b[first+1] && a[first+1] == b[first] &&
		a[first+2:] == b[first+2:]
}

// jaccard is |a∩b|/|a∪b| of two sorted sets.
func jaccard(a, b []uint32) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	i, j, inter := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			inter++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// sameLastWord reports whether two multi-word or one-word names end in the
// same word (DA SILVA and SILVA).
func sameLastWord(a, b string) bool {
	i, j := strings.LastIndexByte(a, ' '), strings.LastIndexByte(b, ' ')
	if i < 0 && j < 0 {
		return false
	}
	return a[i+1:] == b[j+1:]
}

func compareAddress(a, b *node, th *thresholds) int {
	if a.uprn != 0 && a.uprn == b.uprn {
		return addrUPRN
	}
	j := -1.0
	if a.addr != "" && b.addr != "" {
		if a.addr == b.addr {
			return addrExact
		}
		j = jaccard(a.addrToks, b.addrToks)
		if j >= th.addrTok1 {
			return addrClose
		}
	}
	if a.pc != "" && a.pc == b.pc {
		return addrPostcode
	}
	if j >= th.addrTok2 {
		return addrPartial
	}
	if a.sector != "" && a.sector == b.sector {
		return addrSector
	}
	if j >= 0 || (a.pc != "" && b.pc != "") || (a.uprn != 0 && b.uprn != 0) {
		return addrElse
	}
	return lvNull
}

// nameClose reports whether two names are one name: equal, close by
// Jaro–Winkler, or forms of one name.
func nameClose(x, y string, gx, gy []uint16, th *thresholds) bool {
	return x == y || sharesGroup(gx, gy) || jaroWinkler(x, y) >= th.nameJW2
}
