import pytest
import torch

from cantata.models import detector
from cantata.models.detector import ConvFront, FrontConfig


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("batch", [1, 3])
def test_front_in_tiles_equals_front_whole(monkeypatch, causal, batch):
    """At inference the front runs in time tiles (cache-friendly); the seams must be exact."""
    torch.manual_seed(0)
    front = ConvFront(FrontConfig(n_mels=16, channels=(4, 8), freq_pool=(2, 2), causal=causal))
    for block in front.blocks:  # non-trivial batch-norm statistics
        block.norm.running_mean.uniform_(-1, 1)
        block.norm.running_var.uniform_(0.5, 2)
    front.eval()
    x = torch.randn(batch, 16, 203)
    with torch.no_grad():
        whole = front(x)
        monkeypatch.setattr(detector, "TILE_FRAMES", 40)
        tiled = front(x)
    assert tiled.shape == whole.shape == (batch, 8 * 4, 203)
    torch.testing.assert_close(tiled, whole, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("freq", [80, 83])
def test_pool_freq_is_max_pooling_over_frequency(freq):
    x = torch.randn(2, 3, freq, 17)
    torch.testing.assert_close(detector.pool_freq(x, 4), torch.nn.MaxPool2d((4, 1))(x),
                               rtol=0, atol=0)
    assert detector.pool_freq(x, 1) is x
