import type { Trainer } from '../../../../src-shared/domain/training.js';
import { axolotlRecipe } from './axolotl.js';
import { llamaFactoryRecipe } from './llamafactory.js';
import { trlRecipe } from './trl.js';
import { unslothRecipe } from './unsloth.js';
import type { TrainerRecipe } from './types.js';

export const RECIPES: Record<Trainer, TrainerRecipe> = {
  axolotl: axolotlRecipe,
  trl: trlRecipe,
  unsloth: unslothRecipe,
  llamafactory: llamaFactoryRecipe,
};

export type { RecipeInput, RecipeOutput, TrainerRecipe } from './types.js';
