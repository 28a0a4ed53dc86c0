package review

import "strings"

// FieldText names a compared field in words, in the plural ("dates of
// birth"): a comparison is of the two records' values.
func FieldText(field string) string {
	switch field {
	case "given_name":
		return "given names"
	case "family_name":
		return "family names"
	case "date_of_birth":
		return "dates of birth"
	case "address":
		return "addresses"
	case "ni_number":
		return "National Insurance numbers"
	case "sex":
		return "sex"
	}
	return strings.ReplaceAll(field, "_", " ")
}

// LevelText says in words what a field's comparison level means ("day and
// month swapped"). The levels are link.LevelNames; an unknown level is
// given as its name in words.
func LevelText(field, level string) string {
	switch level {
	case "null":
		return "missing on one side, so no evidence either way"
	case "exact", "agree":
		return "the same"
	case "else", "disagree":
		return "different"
	}
	switch field + "/" + level {
	case "given_name/swapped_with_family", "family_name/swapped_with_given":
		return "given and family names swapped"
	case "given_name/nickname_or_variant":
		return "a nickname or variant of the same name"
	case "given_name/jw_high", "family_name/jw_high":
		return "nearly the same spelling"
	case "given_name/jw_low", "family_name/jw_low":
		return "a similar spelling"
	case "given_name/initial":
		return "one is the other's initial"
	case "date_of_birth/day_month_swap":
		return "day and month swapped"
	case "date_of_birth/one_digit":
		return "one digit different"
	case "date_of_birth/same_year":
		return "the same year only"
	case "address/uprn":
		return "the same property (UPRN)"
	case "address/address_exact":
		return "the same address"
	case "address/address_close":
		return "nearly the same address"
	case "address/postcode":
		return "the same postcode, a different address"
	case "address/address_partial":
		return "partly the same address"
	case "address/sector":
		return "the same postcode sector only (nearby)"
	case "ni_number/one_char":
		return "one character different"
	}
	return strings.ReplaceAll(level, "_", " ")
}

// Explain returns a plain-English line for a field's comparison, such as
// "dates of birth: day and month swapped".
func Explain(field, level string) string {
	return FieldText(field) + ": " + LevelText(field, level)
}
