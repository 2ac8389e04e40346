@testable import RetentionEngine
import Testing

@Suite("Batch size")
struct BatchSizerTests {
    @Test("adapted: a slow batch shrinks the next at once, a fast one grows it at most twofold")
    func adapts() {
        var sizer = BatchSizer(fixed: nil, target: .milliseconds(20))
        #expect(sizer.size == BatchSizer.initial)
        sizer.record(1000, took: .milliseconds(80))      // 80 µs a record: 250 fit in 20 ms
        #expect(sizer.size == 250)
        sizer.record(250, took: .milliseconds(1))        // 4 µs a record: 5000 would fit, but only twofold
        #expect(sizer.size == 500)
        for _ in 0..<20 { sizer.record(sizer.size, took: .microseconds(1)) }
        #expect(sizer.size == BatchSizer.largest)
        sizer.record(10, took: .seconds(10))
        #expect(sizer.size == BatchSizer.smallest)
    }

    @Test("fixed by the dataset or the command line: never adapted")
    func fixed() {
        var sizer = BatchSizer(fixed: 300, target: .milliseconds(20))
        sizer.record(300, took: .seconds(5))
        #expect(sizer.size == 300)
    }
}
