import Dispatch
import Systemd
import Testing

/// ``ProbeCallback``: a callback becomes a probe answer that honours cancellation.
@Suite("Probe callbacks")
struct ProbeCallbackTests {
    @Test("answers true once called back from another queue")
    func answersWhenCalledBack() async {
        let queue = DispatchQueue(label: "probe-test")
        #expect(await ProbeCallback.answered { queue.async(execute: $0) })
    }

    @Test("answers false when cancelled before the callback comes, and ignores the late call")
    func answersFalseWhenCancelled() async {
        let gate = DispatchSemaphore(value: 0)
        let queue = DispatchQueue(label: "probe-hung")
        // The queue is "hung" until the gate opens.
        queue.async { gate.wait() }
        let answer = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await ProbeCallback.answered { queue.async(execute: $0) } }
            group.cancelAll()
            return await group.next() ?? true
        }
        #expect(answer == false)
        gate.signal()
    }
}
