import Foundation

/// The CSV files named by the streamer's inputs: files as given, directories as their `*.csv`
/// files sorted by name.
enum InputFiles {
    static func expand(_ inputs: [String]) throws(PipelineConfigError) -> [String] {
        var files: [String] = []
        let fm = FileManager.default
        for input in inputs {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: input, isDirectory: &isDir) else {
                throw .invalid("input \"\(input)\" does not exist")
            }
            if isDir.boolValue {
                let names = ((try? fm.contentsOfDirectory(atPath: input)) ?? [])
                    .filter { $0.lowercased().hasSuffix(".csv") }.sorted()
                if names.isEmpty { throw .invalid("directory \"\(input)\" has no .csv files") }
                files += names.map { (input as NSString).appendingPathComponent($0) }
            } else {
                files.append(input)
            }
        }
        return files
    }
}
