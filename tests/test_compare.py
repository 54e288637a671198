"""Comparing models: what it refuses before any work (the real comparisons run in test_cli and test_app_train)."""

import pytest

from hubdemo import compare, datasets
from hubdemo.errors import HubDemoError
from hubdemo.runs import TrainConfig


@pytest.mark.parametrize("settings", [dict(augment=True), dict(fine_tune=True), dict(from_scratch=True)])
def test_settings_that_train_the_whole_network_are_refused(colours_dir, settings):
    data = datasets.load_folder(colours_dir)
    with pytest.raises(HubDemoError, match="new last layer on each model's features"):
        compare.compare(data, ["efficientnet_lite0_features", "efficientnet_lite1_features"], TrainConfig(**settings))


def test_more_than_four_models_are_refused(colours_dir):
    with pytest.raises(HubDemoError, match="two to 4"):
        compare.compare(datasets.load_folder(colours_dir), ["a", "b", "c", "d", "e"], TrainConfig())
