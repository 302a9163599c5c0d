/** Limits checked before anything else touches an article (DESIGN.md, "Articles"). */
export const MAX_ARTICLE_BYTES = 64 * 1024
/** RFC 5322 §2.1.1: a line must be no more than 998 characters. */
export const MAX_HEADER_LINE_BYTES = 998
export const MAX_SUBJECT_CHARS = 200
export const MAX_DISPLAY_NAME_CHARS = 64
export const MAX_NEWSGROUPS = 5
export const MAX_GROUP_NAME_CHARS = 80
/**
 * Usenet trims long References chains to the newest ids; so do we, keeping the root first. RFC 5537 §3.4.4
 * requires trimming when the unfolded field would pass 998 octets, and our encoding never folds: with 77-character
 * ids, "References: " plus 12 ids and their spaces is 947 bytes, while 13 would be 1,025 (replies that deep failed).
 */
export const MAX_REFERENCES = 12
/** A Date more than this far in the future is refused; back-fill accepts any past date. */
export const MAX_CLOCK_SKEW_MS = 24 * 60 * 60 * 1000
