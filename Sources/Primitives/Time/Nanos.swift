/// Nanosecond constants, since every timestamp in the engine is Int64 nanoseconds.
public enum Nanos {
    public static let microsecond: Int64 = 1_000
    public static let millisecond: Int64 = 1_000_000
    public static let second: Int64 = 1_000_000_000
    public static let minute: Int64 = 60 * second
    public static let hour: Int64 = 60 * minute
    public static let day: Int64 = 24 * hour
    public static let week: Int64 = 7 * day
}
