import Foundation

/// Flushes standard output so followers (`tally tail | …`) see each line at once.
func fflushStandardOutput() {
    // fflush(NULL) flushes every output stream without touching the global `stdout`.
    fflush(nil)
}
