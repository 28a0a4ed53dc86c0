package link

// soundex returns the American Soundex code of an upper-case name as a
// small integer (letter<<12 | three digits), 0 for a name with no letter.
// Only the first word counts, so "AHMED KHAN" codes as "AHMED".
func soundex(s string) uint32 {
	var first byte
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			first = c
			break
		}
		if s[i] == ' ' && first == 0 {
			continue
		}
	}
	if first == 0 {
		return 0
	}
	code := uint32(first) << 12
	digits := 0
	last := soundexDigit[first-'A']
	for i++; i < len(s) && digits < 3; i++ {
		c := s[i]
		if c == ' ' {
			break
		}
		if c < 'A' || c > 'Z' {
			continue
		}
		d := soundexDigit[c-'A']
		switch {
		case d == 0: // vowels and Y separate equal codes
			last = 0
		case d == 9: // H and W do not separate
		case d != last:
			code |= uint32(d) << (8 - 4*digits)
			digits++
			last = d
		}
	}
	return code
}

// soundexDigit is the Soundex digit of each letter: 0 for vowels and Y,
// 9 for H and W.
var soundexDigit = [26]byte{
	0, 1, 2, 3, 0, 1, 2, 9, 0, 2, 2, 4, 5, 5, 0, 1, 2, 6, 2, 3, 0, 1, 9, 2, 0, 2,
}

// soundexString renders a code from soundex as the usual four characters
// (for tests and messages).
func soundexString(c uint32) string {
	if c == 0 {
		return ""
	}
	b := []byte{byte(c >> 12), '0', '0', '0'}
	for i := 0; i < 3; i++ {
		b[1+i] = '0' + byte((c>>(8-4*i))&0xf)
	}
	return string(b)
}
