import CYaml

/// The formats are plain YAML: no anchors, aliases or tags. Yams resolves aliases while it
/// composes (a tree of aliases is expanded: an alias as a mapping key once cost 41 s of CPU) and
/// keeps no trace of them, so the text is first read as libyaml's event stream — linear in the
/// text, aliases unexpanded — through the C library Yams itself wraps.
enum PlainYAML {
    /// Where the first anchor, alias or explicit tag is, and which; nil when there is none or the
    /// text is no YAML at all (Yams then reports the syntax error).
    static func firstExtension(in text: String) -> (line: Int, column: Int, what: String)? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer -> (Int, Int, String)? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                let at = (Int(event.start_mark.line) + 1, Int(event.start_mark.column) + 1)
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_ALIAS_EVENT:
                    return (at.0, at.1, "alias *\(string(event.data.alias.anchor))")
                case YAML_SCALAR_EVENT:
                    if let anchor = event.data.scalar.anchor { return (at.0, at.1, "anchor &\(string(anchor))") }
                    if let tag = event.data.scalar.tag { return (at.0, at.1, "tag \(string(tag))") }
                case YAML_SEQUENCE_START_EVENT:
                    if let anchor = event.data.sequence_start.anchor { return (at.0, at.1, "anchor &\(string(anchor))") }
                    if let tag = event.data.sequence_start.tag, event.data.sequence_start.implicit == 0 { return (at.0, at.1, "tag \(string(tag))") }
                case YAML_MAPPING_START_EVENT:
                    if let anchor = event.data.mapping_start.anchor { return (at.0, at.1, "anchor &\(string(anchor))") }
                    if let tag = event.data.mapping_start.tag, event.data.mapping_start.implicit == 0 { return (at.0, at.1, "tag \(string(tag))") }
                default:
                    break
                }
            }
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>) -> String {
        String(cString: UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }
}
