import D2L

// Shared by the chapter 7 sections: the checks after training a modern network (the
// training itself is chapter 6's `trainCh6`).

/// Checks a training run of `net` on `imageSize`×`imageSize` images: the network still
/// maps a batch to 10 class scores and every minibatch loss was finite; with
/// `lossFalls`, the last quarter of the minibatch losses is below the first; in full
/// mode, the best epoch's test accuracy is above `accuracy` (it moves between epochs).
/// (In quick mode the narrow AlexNet, VGG, NiN and GoogLeNet stay near the chance loss
/// ln 10 ≈ 2.303 for their few dozen steps at the book's learning rates, so their
/// sections ask for a falling loss only in full mode; ResNet and DenseNet, with batch
/// normalisation, fall in quick mode too.)
func checkTraining(_ book: BookContext, _ trainer: Trainer, _ net: Module, imageSize: Int, lossFalls: Bool,
                   accuracy: Double) throws {
    net.eval()
    let scores = try withNoGrad { try net(Tensor.zeros([2, 1, imageSize, imageSize])) }
    book.check(scores.shape == [2, 10] && !trainer.batchLosses.isEmpty && trainer.batchLosses.allSatisfy(\.isFinite),
               "the trained network gives [2, 10] scores and every minibatch loss was finite")
    if lossFalls {
        book.check(trainer.lossFell, "the minibatch loss falls (last quarter below the first)")
    }
    if !book.quick, let best = trainer.history.map(\.testAccuracy).max() {
        book.check(best > accuracy, "the best epoch's test accuracy is above \(accuracy)")
    }
}
