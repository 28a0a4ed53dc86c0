package link

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// normaliser turns source spellings into comparison form. It reuses one
// buffer and interns the results, so the many repeats of a name or address
// across a million records share one string.
type normaliser struct {
	buf    []byte
	toks   []string
	intern map[string]string
}

func (n *normaliser) keep(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if n.intern == nil {
		n.intern = make(map[string]string)
	}
	if s, ok := n.intern[string(b)]; ok {
		return s
	}
	s := string(b)
	n.intern[s] = s
	return s
}

// upperWords writes s upper-cased into n.buf with every run of characters
// other than letters and digits turned into one space (apostrophes dropped,
// so O'BRIEN is OBRIEN), trimmed.
func (n *normaliser) upperWords(s string) []byte {
	b := n.buf[:0]
	space := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			r, size := utf8.DecodeRuneInString(s[i:])
			i += size - 1
			if c = foldRune(r); c == 0 {
				continue
			}
		}
		switch {
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '\'' || c == '`':
			continue
		default:
			if !space {
				b = append(b, ' ')
				space = true
			}
			continue
		}
		b = append(b, c)
		space = false
	}
	if len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	n.buf = b
	return b
}

// name normalises a given or family name.
func (n *normaliser) name(s string) string {
	if s == "" {
		return ""
	}
	return n.keep(n.upperWords(s))
}

// compact normalises a postcode or NI number: upper case, letters and
// digits only.
func (n *normaliser) compact(s string) string {
	if s == "" {
		return ""
	}
	b := n.buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			b = append(b, c-('a'-'A'))
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b = append(b, c)
		}
	}
	n.buf = b
	return n.keep(b)
}

// address normalises an address: upper-case words with standard
// abbreviations for street types and flat designators.
func (n *normaliser) address(s string) string {
	if s == "" {
		return ""
	}
	w := string(n.upperWords(s))
	n.toks = n.toks[:0]
	for len(w) > 0 {
		i := strings.IndexByte(w, ' ')
		t := w
		if i >= 0 {
			t, w = w[:i], w[i+1:]
		} else {
			w = ""
		}
		if a, ok := addressAbbrev[t]; ok {
			t = a
		}
		n.toks = append(n.toks, t)
	}
	// The town adds nothing within one borough and sources drop it at will.
	if k := len(n.toks); k > 1 && n.toks[k-1] == "LONDON" {
		n.toks = n.toks[:k-1]
	}
	b := n.buf[:0]
	for i, t := range n.toks {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, t...)
	}
	n.buf = b
	return n.keep(b)
}

// addressAbbrev maps address words to one standard form (Royal Mail style
// abbreviations), so "Road" and "Rd" compare equal.
var addressAbbrev = map[string]string{
	"ROAD": "RD", "STREET": "ST", "STR": "ST", "AVENUE": "AVE", "AV": "AVE", "LANE": "LN",
	"CRESCENT": "CRES", "CRESC": "CRES", "GROVE": "GRV", "GR": "GRV", "PLACE": "PL",
	"SQUARE": "SQ", "CLOSE": "CL", "COURT": "CT", "DRIVE": "DR", "GARDENS": "GDNS",
	"TERRACE": "TER", "TERR": "TER", "ESTATE": "EST", "HOUSE": "HO", "APARTMENT": "FLAT",
	"APT": "FLAT", "FLT": "FLAT", "CIRCUS": "CIRC", "GREEN": "GRN", "PARK": "PK",
	"HILL": "HL", "MOUNT": "MT", "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W",
	"VALE": "VL", "RISE": "RI", "WAY": "WY", "BUILDINGS": "BLDGS", "MANSIONS": "MANS",
	"SAINT": "ST", "PRINCE": "PR", "ROYAL": "RYL", "UPPER": "UPR", "LOWER": "LWR",
}

// foldRune maps an accented Latin letter to its base ASCII letter (É to E,
// ı to I, ễ to E), other non-ASCII letters to 0 (dropped) and non-letters
// to a space.
func foldRune(r rune) byte {
	if r == '\u2019' || r == '\u2018' { // curly apostrophes
		return '\''
	}
	if !unicode.IsLetter(r) {
		return ' '
	}
	for _, f := range folds {
		if strings.ContainsRune(f[1:], r) {
			return f[0]
		}
	}
	return 0
}

var folds = []string{
	"AÀÁÂÃÄÅĀĂĄàáâãäåāăąạảấầẩẫậắằẳẵặ", "CÇĆĈĊČçćĉċč", "DĎĐďđ", "EÈÉÊËĒĔĖĘĚèéêëēĕėęěẹẻẽếềểễệ",
	"GĜĞĠĢĝğġģ", "HĤĦĥħ", "IÌÍÎÏĨĪĬĮİìíîïĩīĭįıịỉ", "JĴĵ", "KĶķ", "LĹĻĽĿŁĺļľŀł", "NÑŃŅŇñńņň",
	"OÒÓÔÕÖØŌŎŐòóôõöøōŏőọỏốồổỗộớờởỡợơƠ", "RŔŖŘŕŗř", "SŚŜŞŠśŝşšß", "TŢŤŦţťŧ",
	"UÙÚÛÜŨŪŬŮŰŲùúûüũūŭůűųụủứừửữựưƯ", "WŴŵ", "YÝŶŸýÿŷỳỹ", "ZŹŻŽźżž",
}
