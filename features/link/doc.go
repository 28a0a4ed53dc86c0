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
//   - Fellegi–Sunter, estimated as Splink does: u from random record
//     pairs (held fixed); m by expectation–maximisation in training
//     sessions (Config.Model.Training), each over the pairs sharing one key
//     (the date of birth; the two names) with that key's fields left out,
//     a field's m the mean over the sessions that did not block on it;
//     the prior is the probability that two random records match, from
//     the expected matches among the candidates. A pair's match weight is
//     the prior's log odds plus the log2 Bayes factors of its levels, an
//     exact name's adjusted for the name's frequency (term-frequency
//     adjustment: a common name counts for less than a rare one).
//   - guarded clustering: links above the threshold are merged strongest
//     first, refusing a merge when the two clusters hold evidence against
//     being one person (a pair scored strongly against, conflicting dates of
//     birth or NI numbers, unlike given names, a reviewer's rejection). A
//     pair with unlike given names is never a link itself unless its NI
//     numbers agree: twins share everything else. Rejections win over
//     accepted pairs that contradict them.
//
// No function of the package logs or prints personal data: outputs name
// records by (source, record_id) and explain links by comparison levels and
// weights only.
package link
