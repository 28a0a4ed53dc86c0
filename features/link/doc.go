// Package link links raw person records from a council's source systems into
// residents: Fellegi–Sunter record linkage in the manner of Splink.
//
// The pipeline is
//
//   - ReadRecords: every <service>_people.csv of a raw directory, normalised
//     (upper case, punctuation and extra spaces removed, standard address
//     abbreviations, postcodes without spaces). Records with identical
//     normalised details are collapsed into one comparison node.
//   - blocking: candidate pairs are the node pairs that agree on at least one
//     blocking rule (Config.Blocking); blocks larger than a cap are dropped and
//     counted, and a pair found by several rules is scored once (by the first
//     rule that finds it).
//   - comparisons: each field of a pair gets a level (exact, close, ..., else,
//     null), an integer, so the hot loop allocates nothing.
//   - Fellegi–Sunter: u probabilities from random record pairs, m
//     probabilities and the prior λ by expectation–maximisation over the
//     candidate pairs; a pair's match weight is the sum of the log2 Bayes
//     factors of its levels plus the prior's log odds.
//   - guarded clustering: links above the threshold are merged strongest
//     first, refusing a merge when the two clusters hold evidence against
//     being one person (a pair scored strongly against, conflicting dates of
//     birth or NI numbers, a reviewer's rejection).
//
// No function of the package logs or prints personal data: outputs name
// records by (source, record_id) and explain links by comparison levels and
// weights only.
package link
