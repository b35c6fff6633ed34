/// Polls `condition` every `every` until it holds or `timeout` passes; the last answer is
/// returned, so a caller can `#expect(await eventually { … })`.
package func eventually(timeout: Duration = .seconds(30), every: Duration = .milliseconds(20),
                        _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: every)
    }
    return try await condition()
}
