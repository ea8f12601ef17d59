// Package decode reads rgraph's input documents strictly and reports every
// problem as one error type, [*Error], whose text is the form editors jump
// to: "FILE:LINE: FIELD: MESSAGE", for example
//
//	web.yaml:14: runbook[0].timeout: want a positive duration such as 500ms, 5s or 2m, got "5x"
//	run.json:33:17: attempts[0].port: want a whole number from 0 to 65535, got "80"
//
// A [Decoder] is made per file. YAML is parsed into a node tree and walked,
// by hand-written schemas ([Decoder.Fields] and the value helpers) or by
// the yaml tags of a struct ([Decoder.Decode]); unknown fields, repeated
// keys, aliases and values of the wrong kind are errors at their line.
// JSON is decoded with encoding/json and, when that fails, walked token by
// token to find the line, column and path of the first problem
// ([Decoder.JSON]); [Decoder.Place] with [Decoder.JSONPos] or
// [Decoder.YAMLPos] places errors that validation finds after decoding. Every decoder first refuses text that is
// not UTF-8 or holds a NUL byte or other control characters ([Decoder.Text]),
// and [CheckName] does the same for names after unescaping.
//
// Errors match the sentinel the decoder was made with ([Decoder.Kind]) through
// errors.Is, so packages keep their own sentinels (collector.ErrMalformed,
// ingest.ErrInvalidInput) while sharing the type.
package decode
