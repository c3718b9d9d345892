extension String {
    /// The string with `pad` in front until it is `length` characters long (unchanged when it is already).
    public func leftPadded(to length: Int, with pad: Character = "0") -> String {
        count >= length ? self : String(repeating: pad, count: length - count) + self
    }
}
